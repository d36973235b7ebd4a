import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The case a notification is about (process or simulation id) becomes a column, so the delivery log
 * can be searched by case and a case can be erased; and an idempotency key remembers a hash of the
 * request it was first used with, so that reusing it for another request is refused.
 */
export class CaseColumnsAndRequestHash1764400000000 implements MigrationInterface {
  name = 'CaseColumnsAndRequestHash1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE notifications ADD COLUMN process_unique_id varchar(128), ADD COLUMN simulation_unique_id varchar(128)`,
    );
    await queryRunner.query(
      `UPDATE notifications SET process_unique_id = left(payload->>'processUniqueId', 128), simulation_unique_id = left(payload->>'simulationUniqueId', 128)`,
    );
    // Partial: a notification names one of the two, so each index holds only its own rows.
    await queryRunner.query(
      `CREATE INDEX ix_notifications_process ON notifications (process_unique_id) WHERE process_unique_id IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX ix_notifications_simulation ON notifications (simulation_unique_id) WHERE simulation_unique_id IS NOT NULL`,
    );
    // NULL for keys stored before this migration: they replay as they always did.
    await queryRunner.query(`ALTER TABLE idempotency_keys ADD COLUMN request_hash char(64)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE idempotency_keys DROP COLUMN request_hash`);
    await queryRunner.query(`DROP INDEX ix_notifications_simulation`);
    await queryRunner.query(`DROP INDEX ix_notifications_process`);
    await queryRunner.query(`ALTER TABLE notifications DROP COLUMN simulation_unique_id, DROP COLUMN process_unique_id`);
  }
}
