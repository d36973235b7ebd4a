import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for the data lifecycle, built CONCURRENTLY (outside a transaction) so that intake and
 * delivery keep writing while a large notifications table is indexed:
 * - ix_notifications_retention: the retention sweep finds delivered/failed/skipped rows by age. A
 *   row enters it once, when it becomes terminal (that update is not HOT anyway: status and
 *   updated_at change); retries of a pending row do not touch it.
 * - ix_notifications_overdue: the reconciler reads only pending rows overdue beyond a grace period,
 *   in (next_attempt_at, id) order, which is also its paging key. It replaces ix_notifications_pending
 *   (pending by updated_at), which nothing reads any more.
 * - ix_idempotency_keys_notification: deleting a notification deletes its idempotency keys (and the
 *   foreign key's cascade looks them up); without it each deleted notification scans the table.
 */
export class DataLifecycleIndexes1764410000000 implements MigrationInterface {
  name = 'DataLifecycleIndexes1764410000000';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    // A concurrent build that failed leaves an invalid index behind: drop it before building again.
    await rebuild(queryRunner, 'ix_notifications_retention', `ON notifications (updated_at) WHERE status <> 'pending'`);
    await rebuild(queryRunner, 'ix_notifications_overdue', `ON notifications (next_attempt_at, id) WHERE status = 'pending'`);
    await rebuild(queryRunner, 'ix_idempotency_keys_notification', `ON idempotency_keys (notification_id)`);
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS ix_notifications_pending`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await rebuild(queryRunner, 'ix_notifications_pending', `ON notifications (updated_at) WHERE status = 'pending'`);
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS ix_idempotency_keys_notification`);
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS ix_notifications_overdue`);
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS ix_notifications_retention`);
  }
}

async function rebuild(queryRunner: QueryRunner, name: string, definition: string): Promise<void> {
  await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
  await queryRunner.query(`CREATE INDEX CONCURRENTLY ${name} ${definition}`);
}
