import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DeliveryLog1764190000000 implements MigrationInterface {
  name = 'DeliveryLog1764190000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE notifications (
        id uuid PRIMARY KEY,
        seq bigint GENERATED ALWAYS AS IDENTITY,
        partner_id uuid NOT NULL REFERENCES partners(id) ON DELETE CASCADE,
        notification_type_id smallint NOT NULL,
        -- json, not jsonb: the payload is sent on exactly as it was given (key order included).
        payload json NOT NULL,
        test boolean NOT NULL DEFAULT false,
        status varchar(16) NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'skipped')),
        status_reason varchar(64),
        attempt_count integer NOT NULL DEFAULT 0,
        round_attempts integer NOT NULL DEFAULT 0,
        delivery_round integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_attempt_at timestamptz,
        next_attempt_at timestamptz,
        delivered_at timestamptz
      )`);
    // The delivery log: a partner's notifications newest first (status and type filters walk the same
    // index). No index on status itself: every delivery changes it, and each index costs a write.
    await queryRunner.query(`CREATE INDEX ix_notifications_partner_seq ON notifications (partner_id, seq DESC)`);
    // The reconciler's scan: pending notifications only, oldest change first.
    await queryRunner.query(`CREATE INDEX ix_notifications_pending ON notifications (updated_at) WHERE status = 'pending'`);

    await queryRunner.query(`
      CREATE TABLE delivery_attempts (
        notification_id uuid NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
        attempt integer NOT NULL,
        at timestamptz NOT NULL,
        callback_url varchar(2048) NOT NULL,
        status_code smallint,
        duration_ms integer NOT NULL,
        error varchar(32),
        response_body text,
        PRIMARY KEY (notification_id, attempt)
      )`);

    await queryRunner.query(`
      CREATE TABLE idempotency_keys (
        caller varchar(64) NOT NULL,
        key varchar(255) NOT NULL,
        notification_id uuid NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
        response_status varchar(16) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (caller, key)
      )`);
    await queryRunner.query(`CREATE INDEX ix_idempotency_keys_created_at ON idempotency_keys (created_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE idempotency_keys`);
    await queryRunner.query(`DROP TABLE delivery_attempts`);
    await queryRunner.query(`DROP TABLE notifications`);
  }
}
