import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The callback lifecycle: why and since when a callback is disabled, its failure streak and last
 * success, the time its circuit opened; operator events with their attempt log; and an index for
 * bulk recovery (a callback's failed and skipped notifications by time).
 */
export class CallbackLifecycle1764500000000 implements MigrationInterface {
  name = 'CallbackLifecycle1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE callbacks
        ADD COLUMN disabled_reason varchar(16) CHECK (disabled_reason IN ('partner', 'failing')),
        ADD COLUMN disabled_at timestamptz,
        ADD COLUMN failing_since timestamptz,
        ADD COLUMN last_success_at timestamptz,
        ADD COLUMN circuit_opened_at timestamptz`);
    await queryRunner.query(`UPDATE callbacks SET disabled_reason = 'partner', disabled_at = updated_at WHERE NOT enabled`);
    await queryRunner.query(`
      ALTER TABLE callbacks ADD CONSTRAINT ck_callbacks_disabled_reason
        CHECK ((enabled AND disabled_reason IS NULL AND disabled_at IS NULL) OR (NOT enabled AND disabled_reason IS NOT NULL AND disabled_at IS NOT NULL))`);

    // Recovery looks for one callback's failed or skipped notifications in a time window; the
    // partial index costs a write only when a notification ends failed or skipped.
    await queryRunner.query(`
      CREATE INDEX ix_notifications_recoverable ON notifications (partner_id, notification_type_id, created_at)
        WHERE status IN ('failed', 'skipped')`);

    await queryRunner.query(`
      CREATE TABLE operator_events (
        id uuid PRIMARY KEY,
        type varchar(32) NOT NULL,
        data json NOT NULL,
        -- notification.exhausted events of one callback share a key; while "accumulating", more
        -- failures are counted into the row instead of making new events.
        coalesce_key varchar(128),
        count integer NOT NULL DEFAULT 1,
        accumulating boolean NOT NULL DEFAULT false,
        status varchar(16) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
        status_reason varchar(64),
        attempt_count integer NOT NULL DEFAULT 0,
        due_at timestamptz NOT NULL DEFAULT now(),
        next_attempt_at timestamptz,
        last_attempt_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX uq_operator_events_accumulating ON operator_events (coalesce_key) WHERE accumulating`);
    await queryRunner.query(
      `CREATE INDEX ix_operator_events_coalesce ON operator_events (coalesce_key, due_at DESC) WHERE coalesce_key IS NOT NULL`,
    );
    await queryRunner.query(`CREATE INDEX ix_operator_events_pending ON operator_events (updated_at) WHERE status = 'pending'`);
    await queryRunner.query(`
      CREATE TABLE operator_event_attempts (
        event_id uuid NOT NULL REFERENCES operator_events(id) ON DELETE CASCADE,
        attempt integer NOT NULL,
        at timestamptz NOT NULL,
        url varchar(2048) NOT NULL,
        status_code smallint,
        duration_ms integer NOT NULL,
        error varchar(32),
        response_body text,
        PRIMARY KEY (event_id, attempt)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE operator_event_attempts`);
    await queryRunner.query(`DROP TABLE operator_events`);
    await queryRunner.query(`DROP INDEX ix_notifications_recoverable`);
    await queryRunner.query(`ALTER TABLE callbacks DROP CONSTRAINT ck_callbacks_disabled_reason`);
    await queryRunner.query(`
      ALTER TABLE callbacks DROP COLUMN disabled_reason, DROP COLUMN disabled_at, DROP COLUMN failing_since,
        DROP COLUMN last_success_at, DROP COLUMN circuit_opened_at`);
  }
}
