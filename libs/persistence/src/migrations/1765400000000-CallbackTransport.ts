import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 21, per callback: how deliveries are signed (HMAC v1, ed25519 v1a, or both; the ed25519
 * private keys encrypted like signing secrets, the previous key signing alongside for 24 hours
 * after a rotation), the CA its endpoint's certificate must chain to, and OAuth2 client credentials
 * (the client secret encrypted, write-only; a CHECK keeps a callback from having auth without it).
 * Per attempt: the one-line reason of a tls_error, proxy_error or auth_error.
 * Every column is nullable or has a constant default: adding them rewrites no table, and the
 * previous release, which names its columns, reads and writes these tables unchanged.
 */
export class CallbackTransport1765400000000 implements MigrationInterface {
  name = 'CallbackTransport1765400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE callbacks
        ADD COLUMN signature_scheme varchar(8) NOT NULL DEFAULT 'hmac',
        ADD COLUMN ed25519_secret_key_encrypted text,
        ADD COLUMN ed25519_public_key varchar(64),
        ADD COLUMN previous_ed25519_secret_key_encrypted text,
        ADD COLUMN previous_ed25519_public_key varchar(64),
        ADD COLUMN previous_ed25519_expires_at timestamptz,
        ADD COLUMN tls_ca_certificate text,
        ADD COLUMN auth jsonb,
        ADD COLUMN auth_client_secret_encrypted text,
        ADD CONSTRAINT ck_callbacks_signature_scheme CHECK (signature_scheme IN ('hmac', 'ed25519', 'both')),
        ADD CONSTRAINT ck_callbacks_ed25519_key CHECK (signature_scheme = 'hmac' OR ed25519_secret_key_encrypted IS NOT NULL),
        ADD CONSTRAINT ck_callbacks_auth_client_secret CHECK (auth IS NULL OR auth_client_secret_encrypted IS NOT NULL)`);
    await queryRunner.query(`ALTER TABLE delivery_attempts ADD COLUMN error_detail varchar(300)`);
    await queryRunner.query(`ALTER TABLE operator_event_attempts ADD COLUMN error_detail varchar(300)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE operator_event_attempts DROP COLUMN error_detail`);
    await queryRunner.query(`ALTER TABLE delivery_attempts DROP COLUMN error_detail`);
    await queryRunner.query(`
      ALTER TABLE callbacks
        DROP CONSTRAINT ck_callbacks_auth_client_secret, DROP CONSTRAINT ck_callbacks_ed25519_key, DROP CONSTRAINT ck_callbacks_signature_scheme,
        DROP COLUMN auth_client_secret_encrypted, DROP COLUMN auth, DROP COLUMN tls_ca_certificate,
        DROP COLUMN previous_ed25519_expires_at, DROP COLUMN previous_ed25519_public_key, DROP COLUMN previous_ed25519_secret_key_encrypted,
        DROP COLUMN ed25519_public_key, DROP COLUMN ed25519_secret_key_encrypted, DROP COLUMN signature_scheme`);
  }
}
