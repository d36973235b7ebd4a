import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Custom header values are often tokens, so they are stored encrypted like signing secrets: the
 * whole headers object, as JSON, encrypted with SECRETS_ENCRYPTION_KEY (see openCallbackHeaders in
 * @callbacks/signing). Rows written before keep their plaintext `headers` (headers_encrypted NULL)
 * and keep working; `npm run secrets:reencrypt` encrypts them. SQL has no key, so this migration
 * cannot encrypt them itself.
 */
export class EncryptedCallbackHeaders1764430000000 implements MigrationInterface {
  name = 'EncryptedCallbackHeaders1764430000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE callbacks ADD COLUMN headers_encrypted text`);
    await queryRunner.query(
      `COMMENT ON COLUMN callbacks.headers_encrypted IS 'AES-256-GCM of the custom headers as JSON; when set, it is the truth and headers is {}'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Without the key, SQL cannot put encrypted headers back into plaintext: refuse rather than lose them.
    const [{ count }] = (await queryRunner.query(
      `SELECT count(*)::int AS count FROM callbacks WHERE headers_encrypted IS NOT NULL`,
    )) as Array<{ count: number }>;
    if (count > 0) throw new Error(`${count} callbacks hold encrypted custom headers; reverting would lose them`);
    await queryRunner.query(`ALTER TABLE callbacks DROP COLUMN headers_encrypted`);
  }
}
