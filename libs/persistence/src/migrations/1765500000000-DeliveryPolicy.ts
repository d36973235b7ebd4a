import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 20, per callback: its delivery policy (ordering, in-flight cap, rate, timeout; null where the
 * partner chose nothing, so the operator's defaults apply as they are now). Per notification of an
 * ordered callback: its place in its case (`case_sequence`, 1, 2, 3… per callback and case), taken
 * at intake from `case_sequences`, a counter per callback and case upserted in the intake
 * transaction; the index finds a notification's predecessor in its case. `waiting_for`: the
 * predecessor a held notification waits for (the index finds the one to wake when it ends).
 * Every new column is nullable or has a constant default: no table is rewritten, and the previous
 * release, which names its columns, reads and writes these tables unchanged.
 */
export class DeliveryPolicy1765500000000 implements MigrationInterface {
  name = 'DeliveryPolicy1765500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE callbacks
        ADD COLUMN delivery_ordering varchar(8) NOT NULL DEFAULT 'none',
        ADD COLUMN delivery_max_in_flight smallint,
        ADD COLUMN delivery_rate_per_second smallint,
        ADD COLUMN delivery_timeout_ms integer,
        ADD CONSTRAINT ck_callbacks_delivery_ordering CHECK (delivery_ordering IN ('none', 'case')),
        ADD CONSTRAINT ck_callbacks_delivery_max_in_flight CHECK (delivery_max_in_flight BETWEEN 1 AND 100),
        ADD CONSTRAINT ck_callbacks_delivery_rate_per_second CHECK (delivery_rate_per_second BETWEEN 1 AND 1000),
        ADD CONSTRAINT ck_callbacks_delivery_timeout_ms CHECK (delivery_timeout_ms > 0)`);
    await queryRunner.query(`ALTER TABLE notifications ADD COLUMN case_sequence integer, ADD COLUMN waiting_for uuid`);
    await queryRunner.query(`CREATE INDEX ix_notifications_waiting_for ON notifications (waiting_for) WHERE waiting_for IS NOT NULL`);
    await queryRunner.query(`
      CREATE INDEX ix_notifications_case_sequence
          ON notifications (partner_id, notification_type_id, COALESCE(process_unique_id, simulation_unique_id), case_sequence)
       WHERE case_sequence IS NOT NULL`);
    await queryRunner.query(`
      CREATE TABLE case_sequences (
        partner_id uuid NOT NULL REFERENCES partners(id) ON DELETE CASCADE,
        notification_type_id smallint NOT NULL,
        case_kind char(1) NOT NULL CHECK (case_kind IN ('p', 's')),
        case_id varchar(128) NOT NULL,
        last_sequence integer NOT NULL,
        PRIMARY KEY (partner_id, notification_type_id, case_kind, case_id)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE case_sequences`);
    await queryRunner.query(`DROP INDEX ix_notifications_case_sequence`);
    await queryRunner.query(`DROP INDEX ix_notifications_waiting_for`);
    await queryRunner.query(`ALTER TABLE notifications DROP COLUMN waiting_for, DROP COLUMN case_sequence`);
    await queryRunner.query(`
      ALTER TABLE callbacks
        DROP CONSTRAINT ck_callbacks_delivery_timeout_ms, DROP CONSTRAINT ck_callbacks_delivery_rate_per_second,
        DROP CONSTRAINT ck_callbacks_delivery_max_in_flight, DROP CONSTRAINT ck_callbacks_delivery_ordering,
        DROP COLUMN delivery_timeout_ms, DROP COLUMN delivery_rate_per_second, DROP COLUMN delivery_max_in_flight, DROP COLUMN delivery_ordering`);
  }
}
