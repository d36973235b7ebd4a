import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 18: the audit trail, an append-only record of every change of access or destination.
 * It holds ids (partner, key, session, notification), never a secret, a header value or a payload,
 * so it has no foreign key: it outlives a partner's erasure and is deleted only by retention
 * (AUDIT_RETENTION_PERIOD). A trigger refuses every UPDATE: an entry, once written, stays as written.
 * Entries are listed by (at, seq): `seq` breaks ties between entries of the same time. The two
 * indexes serve a partner's listing and the whole trail's (`since`), both in that order, and the
 * retention sweep (oldest first).
 */
export class AuditEntries1765200000000 implements MigrationInterface {
  name = 'AuditEntries1765200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE audit_entries (
        id uuid PRIMARY KEY,
        seq bigint GENERATED ALWAYS AS IDENTITY,
        at timestamptz NOT NULL DEFAULT now(),
        action varchar(48) NOT NULL,
        actor_kind varchar(16) NOT NULL,
        actor_id varchar(64),
        partner_id uuid,
        target varchar(160),
        details jsonb NOT NULL DEFAULT '{}',
        request_id varchar(128),
        source_address varchar(64),
        CONSTRAINT ck_audit_entries_actor_kind CHECK (actor_kind IN ('operator', 'api_key', 'portal_session'))
      )`);
    await queryRunner.query(`CREATE INDEX ix_audit_entries_partner ON audit_entries (partner_id, at, seq)`);
    await queryRunner.query(`CREATE INDEX ix_audit_entries_at ON audit_entries (at, seq)`);
    await queryRunner.query(`
      CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_entries is append-only: entries are never updated';
      END $$`);
    await queryRunner.query(
      `CREATE TRIGGER audit_entries_append_only BEFORE UPDATE ON audit_entries FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE audit_entries`);
    await queryRunner.query(`DROP FUNCTION audit_entries_append_only()`);
  }
}
