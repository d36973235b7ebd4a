import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * ix_notifications_overdue leaves out parked rows. A parked delivery keeps the due time it had and
 * waits for its callback to hand it a slot (Redis wakes it); with parked rows in the index, every
 * reconciler pass would read a whole parked backlog, as overdue, for nothing. Built CONCURRENTLY,
 * like the index it replaces (see DataLifecycleIndexes).
 */
export class OverdueIndexWithoutParked1765350000000 implements MigrationInterface {
  name = 'OverdueIndexWithoutParked1765350000000';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    await rebuild(
      queryRunner,
      'ix_notifications_overdue',
      `ON notifications (next_attempt_at, id) WHERE status = 'pending' AND parked_at IS NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await rebuild(queryRunner, 'ix_notifications_overdue', `ON notifications (next_attempt_at, id) WHERE status = 'pending'`);
  }
}

async function rebuild(queryRunner: QueryRunner, name: string, definition: string): Promise<void> {
  await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
  await queryRunner.query(`CREATE INDEX CONCURRENTLY ${name} ${definition}`);
}
