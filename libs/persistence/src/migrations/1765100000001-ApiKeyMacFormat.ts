import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 18: keys issued from this release on end in a MAC (`mac_format`), so a forged key is refused
 * without a database query. Keys already issued (and any a previous-release process issues during
 * a rolling upgrade: the default) are old-format: the API keeps their hashes in memory to tell them
 * from forged ones. A constant default: adding the column rewrites no table.
 */
export class ApiKeyMacFormat1765100000001 implements MigrationInterface {
  name = 'ApiKeyMacFormat1765100000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE api_keys ADD COLUMN mac_format boolean NOT NULL DEFAULT false`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE api_keys DROP COLUMN mac_format`);
  }
}
