import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 18: a portal link, and the session made from it, belong to the credential that created the
 * link: an API key (`api_key_id`), or the operator (null). Revoking the key ends them.
 * Links and sessions made before this release do not say who made them, so they end here: partners
 * sign in again with a new link. Nullable columns: adding them rewrites no table.
 */
export class PortalSessionCredentials1765100000000 implements MigrationInterface {
  name = 'PortalSessionCredentials1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM portal_sessions`);
    await queryRunner.query(`DELETE FROM portal_links`);
    for (const table of ['portal_links', 'portal_sessions']) {
      await queryRunner.query(`ALTER TABLE ${table} ADD COLUMN api_key_id uuid REFERENCES api_keys(id) ON DELETE CASCADE`);
      await queryRunner.query(`CREATE INDEX ix_${table}_api_key_id ON ${table} (api_key_id) WHERE api_key_id IS NOT NULL`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['portal_sessions', 'portal_links']) await queryRunner.query(`ALTER TABLE ${table} DROP COLUMN api_key_id`);
  }
}
