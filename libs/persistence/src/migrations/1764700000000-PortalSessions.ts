import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The partner portal's one-time sign-in links and its server-side sessions. Only SHA-256 hashes of
 * their tokens are stored: a copy of the database signs nobody in. Both go with their partner.
 */
export class PortalSessions1764700000000 implements MigrationInterface {
  name = 'PortalSessions1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE portal_links (
        token_hash char(64) PRIMARY KEY,
        partner_id uuid NOT NULL REFERENCES partners(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX ix_portal_links_partner_id ON portal_links (partner_id)`);
    await queryRunner.query(`
      CREATE TABLE portal_sessions (
        id uuid PRIMARY KEY,
        token_hash char(64) NOT NULL,
        partner_id uuid NOT NULL REFERENCES partners(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX ix_portal_sessions_token_hash ON portal_sessions (token_hash)`);
    await queryRunner.query(`CREATE INDEX ix_portal_sessions_partner_id ON portal_sessions (partner_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE portal_sessions`);
    await queryRunner.query(`DROP TABLE portal_links`);
  }
}
