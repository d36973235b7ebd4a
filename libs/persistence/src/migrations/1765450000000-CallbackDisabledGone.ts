import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 19: a callback whose endpoint answers 410 Gone is disabled at once, with disabled_reason
 * "gone". Only the column's CHECK changes (PostgreSQL named the inline one of 1764500000000); it is
 * replaced by a named one. The previous release never writes "gone", so it runs on this schema.
 */
export class CallbackDisabledGone1765450000000 implements MigrationInterface {
  name = 'CallbackDisabledGone1765450000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE callbacks
        DROP CONSTRAINT callbacks_disabled_reason_check,
        ADD CONSTRAINT ck_callbacks_disabled_reason_kind CHECK (disabled_reason IN ('partner', 'failing', 'gone'))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`UPDATE callbacks SET disabled_reason = 'failing' WHERE disabled_reason = 'gone'`);
    await queryRunner.query(`
      ALTER TABLE callbacks
        DROP CONSTRAINT ck_callbacks_disabled_reason_kind,
        ADD CONSTRAINT callbacks_disabled_reason_check CHECK (disabled_reason IN ('partner', 'failing'))`);
  }
}
