import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { AuditActorKind } from '../entities/audit-entry.entity';
import type { SqlExecutor } from '../sql-executor';

/** An entry as written: ids and facts about the change, never a secret, a header value or a payload. */
export interface NewAuditEntry {
  id: string;
  action: string;
  actorKind: AuditActorKind;
  actorId: string | null;
  partnerId: string | null;
  target: string | null;
  details: Record<string, unknown>;
  requestId: string | null;
  sourceAddress: string | null;
}

/** Where an entry stands in the listing's order: its time in microseconds since the epoch (a JS Date would cut them), then its seq. */
export interface AuditPosition {
  atMicros: string;
  seq: string;
}

export interface AuditEntryRow extends NewAuditEntry {
  at: Date;
  position: AuditPosition;
}

/** Which entries a page holds: of one partner or all, at or after `since`, past the previous page's last position, in one direction. */
export interface AuditPageQuery {
  partnerId?: string;
  since?: Date;
  /** The position of the last entry of the previous page. */
  after?: AuditPosition;
  limit: number;
  order: 'oldest_first' | 'newest_first';
}

interface Row {
  id: string;
  seq_text: string;
  at_micros: string;
  at: Date;
  action: string;
  actor_kind: AuditActorKind;
  actor_id: string | null;
  partner_id: string | null;
  target: string | null;
  details: Record<string, unknown>;
  request_id: string | null;
  source_address: string | null;
}

/** The audit trail: appended to, paged, and expired by retention; never updated. Each method runs on `db` when given (a caller's transaction). */
@Injectable()
export class AuditRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(entry: NewAuditEntry, db: SqlExecutor = this.dataSource): Promise<void> {
    await db.query(
      `INSERT INTO audit_entries (id, action, actor_kind, actor_id, partner_id, target, details, request_id, source_address)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        entry.id,
        entry.action,
        entry.actorKind,
        entry.actorId,
        entry.partnerId,
        entry.target,
        JSON.stringify(entry.details),
        entry.requestId,
        entry.sourceAddress,
      ],
    );
  }

  /** Up to `limit` entries in `order`: by time, then insertion (an index range scan either way, with or without a partner). */
  async page(query: AuditPageQuery): Promise<AuditEntryRow[]> {
    const conditions: string[] = [];
    const parameters: unknown[] = [];
    const where = (sql: (placeholder: string) => string, value: unknown) => {
      parameters.push(value);
      conditions.push(sql(`$${parameters.length}`));
    };
    const newestFirst = query.order === 'newest_first';
    if (query.partnerId !== undefined) where((p) => `partner_id = ${p}`, query.partnerId);
    if (query.since !== undefined) where((p) => `at >= ${p}`, query.since);
    if (query.after !== undefined) {
      const { atMicros, seq } = query.after;
      parameters.push(atMicros);
      const atPlaceholder = `$${parameters.length}`;
      where(
        (p) =>
          `(at, seq) ${newestFirst ? '<' : '>'} (timestamptz 'epoch' + ${atPlaceholder}::bigint * interval '1 microsecond', ${p}::bigint)`,
        seq,
      );
    }
    parameters.push(query.limit);
    const direction = newestFirst ? 'DESC' : 'ASC';
    const rows = (await this.dataSource.query(
      `SELECT id, seq::text AS seq_text, (extract(epoch FROM at) * 1000000)::bigint::text AS at_micros, at,
              action, actor_kind, actor_id, partner_id, target, details, request_id, source_address
         FROM audit_entries ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
        ORDER BY at ${direction}, seq ${direction} LIMIT $${parameters.length}`,
      parameters,
    )) as Row[];
    return rows.map((row) => ({
      id: row.id,
      position: { atMicros: row.at_micros, seq: row.seq_text },
      at: row.at,
      action: row.action,
      actorKind: row.actor_kind,
      actorId: row.actor_id,
      partnerId: row.partner_id,
      target: row.target,
      details: row.details,
      requestId: row.request_id,
      sourceAddress: row.source_address,
    }));
  }

  /** Deletes at most `limit` entries written before `cutoff`, oldest first; returns how many. */
  async deleteBefore(cutoff: Date, limit: number, db: SqlExecutor = this.dataSource): Promise<number> {
    const rows = (await db.query(
      `WITH doomed AS (SELECT id FROM audit_entries WHERE at < $1 ORDER BY at LIMIT $2),
            gone AS (DELETE FROM audit_entries a USING doomed d WHERE a.id = d.id RETURNING 1)
       SELECT count(*)::int AS deleted FROM gone`,
      [cutoff, limit],
    )) as Array<{ deleted: number }>;
    return rows[0].deleted;
  }
}
