import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1764180000000 implements MigrationInterface {
  name = 'InitialSchema1764180000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE partners (
        id uuid PRIMARY KEY,
        name varchar(200) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        partner_id uuid NOT NULL REFERENCES partners(id) ON DELETE CASCADE,
        key_hash char(64) NOT NULL,
        key_prefix varchar(16) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX ix_api_keys_key_hash ON api_keys (key_hash)`);
    await queryRunner.query(`CREATE INDEX ix_api_keys_partner_id ON api_keys (partner_id)`);
    await queryRunner.query(`
      CREATE TABLE callbacks (
        id uuid PRIMARY KEY,
        partner_id uuid NOT NULL REFERENCES partners(id) ON DELETE CASCADE,
        notification_type_id smallint NOT NULL,
        callback_url varchar(2048) NOT NULL,
        headers jsonb NOT NULL DEFAULT '{}'::jsonb,
        enabled boolean NOT NULL DEFAULT true,
        signing_secret_encrypted text NOT NULL,
        previous_signing_secret_encrypted text,
        previous_secret_expires_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_callbacks_partner_type UNIQUE (partner_id, notification_type_id)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE callbacks`);
    await queryRunner.query(`DROP TABLE api_keys`);
    await queryRunner.query(`DROP TABLE partners`);
  }
}
