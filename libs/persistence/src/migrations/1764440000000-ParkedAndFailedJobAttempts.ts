import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * parked_at: when a delivery was parked behind its callback's in-flight cap (NULL once an attempt is
 * recorded). After Redis loses its data, the parked deliveries are due at once, not at their park timeout.
 * failed_job_attempts: the job's attemptsMade when the failure was recorded; only a job retried
 * after that failure (attemptsMade above it) reopens the notification.
 */
export class ParkedAndFailedJobAttempts1764440000000 implements MigrationInterface {
  name = 'ParkedAndFailedJobAttempts1764440000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE notifications ADD COLUMN parked_at timestamptz, ADD COLUMN failed_job_attempts integer`);
    await queryRunner.query(
      `CREATE INDEX ix_notifications_parked ON notifications (parked_at) WHERE parked_at IS NOT NULL AND status = 'pending'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX ix_notifications_parked`);
    await queryRunner.query(`ALTER TABLE notifications DROP COLUMN failed_job_attempts, DROP COLUMN parked_at`);
  }
}
