import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { OperatorEventType } from '@callbacks/contracts';
import type { SqlExecutor } from '../sql-executor';

/** An event as its job needs it: id, type and when its first attempt is due. */
export interface RecordedOperatorEvent {
  id: string;
  type: OperatorEventType;
  dueAt: Date;
}

/** An event taken for an attempt: it takes no more counts from now on. */
export interface SealedOperatorEvent {
  type: OperatorEventType;
  data: Record<string, unknown>;
  count: number;
  attemptCount: number;
  createdAt: Date;
}

/** One attempt to send an event, as the endpoint answered it. */
export interface OperatorEventAttempt {
  attempt: number;
  at: Date;
  url: string;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseBody: string | null;
}

/** Where an event goes after an attempt: delivered, failed for good, or pending until nextAttemptAt. */
export interface OperatorEventUpdate {
  status: 'delivered' | 'failed' | 'pending';
  statusReason: string | null;
  nextAttemptAt: Date | null;
}

/** The operator events and their attempts (the outbox). Each method runs on `db` when given (a caller's transaction). */
@Injectable()
export class OperatorEventRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Inserts an event due now; returns its due time. */
  async insert(id: string, type: OperatorEventType, data: object, db: SqlExecutor = this.dataSource): Promise<Date> {
    const [row] = (await db.query(`INSERT INTO operator_events (id, type, data) VALUES ($1, $2, $3) RETURNING due_at`, [
      id,
      type,
      JSON.stringify(data),
    ])) as Array<{ due_at: Date }>;
    return row.due_at;
  }

  /**
   * Counts `count` failures into the accumulating event of `coalesceKey`, or makes a new one, due
   * `coalesceMs` after the key's previous event (at once when there was none for that long).
   * Returns the event and whether it was made here.
   */
  async accumulate(
    id: string,
    type: OperatorEventType,
    data: object,
    coalesceKey: string,
    count: number,
    coalesceMs: number,
    db: SqlExecutor = this.dataSource,
  ): Promise<{ id: string; dueAt: Date; created: boolean }> {
    const [row] = (await db.query(
      `INSERT INTO operator_events (id, type, data, coalesce_key, count, accumulating, due_at)
       SELECT $1, $2, $3, $4::varchar, $5, true,
              GREATEST(now(), (SELECT max(due_at) FROM operator_events WHERE coalesce_key = $4::varchar) + make_interval(secs => $6))
       ON CONFLICT (coalesce_key) WHERE accumulating
       DO UPDATE SET count = operator_events.count + EXCLUDED.count, data = EXCLUDED.data, updated_at = now()
       RETURNING id, due_at, (xmax = 0) AS created`,
      [id, type, JSON.stringify(data), coalesceKey, count, coalesceMs / 1000],
    )) as Array<{ id: string; due_at: Date; created: boolean }>;
    return { id: row.id, dueAt: row.due_at, created: row.created };
  }

  /** Status, due time and attempts so far; null when the event is gone. */
  async peek(id: string): Promise<{ status: string; dueAt: Date; attemptCount: number } | null> {
    const [row] = (await this.dataSource.query(`SELECT status, due_at, attempt_count FROM operator_events WHERE id = $1`, [id])) as Array<{
      status: string;
      due_at: Date;
      attempt_count: number;
    }>;
    return row ? { status: row.status, dueAt: row.due_at, attemptCount: row.attempt_count } : null;
  }

  /** Stops a pending event from taking more counts and returns it; null when it is not pending. */
  async seal(id: string): Promise<SealedOperatorEvent | null> {
    const [rows] = (await this.dataSource.query(
      `UPDATE operator_events SET accumulating = false WHERE id = $1 AND status = 'pending'
       RETURNING type, data, count, attempt_count, created_at`,
      [id],
    )) as [
      Array<{ type: OperatorEventType; data: Record<string, unknown>; count: number; attempt_count: number; created_at: Date }>,
      number,
    ];
    const [row] = rows;
    return row ? { type: row.type, data: row.data, count: row.count, attemptCount: row.attempt_count, createdAt: row.created_at } : null;
  }

  /** Fails a pending event without an attempt. */
  async fail(id: string, reason: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE operator_events SET status = 'failed', status_reason = $2, updated_at = now() WHERE id = $1 AND status = 'pending'`,
      [id, reason],
    );
  }

  /** Records an attempt (once per number) and moves a pending event on. */
  async recordAttempt(id: string, attempt: OperatorEventAttempt, next: OperatorEventUpdate): Promise<void> {
    await this.dataSource.query(
      `WITH attempt AS (
         INSERT INTO operator_event_attempts (event_id, attempt, at, url, status_code, duration_ms, error, response_body)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (event_id, attempt) DO NOTHING
       )
       UPDATE operator_events
          SET attempt_count = $2, last_attempt_at = $3, status = $9, status_reason = $10, next_attempt_at = $11, updated_at = now()
        WHERE id = $1 AND status = 'pending'`,
      [
        id,
        attempt.attempt,
        attempt.at,
        attempt.url,
        attempt.statusCode,
        attempt.durationMs,
        attempt.error,
        attempt.responseBody,
        next.status,
        next.statusReason,
        next.nextAttemptAt,
      ],
    );
  }

  /** Pending events nothing touched for `quietMs`, oldest first; each due at its due time or its next attempt, whichever is later. */
  async quietPending(quietMs: number, limit: number, db: SqlExecutor = this.dataSource): Promise<RecordedOperatorEvent[]> {
    const rows = (await db.query(
      `SELECT id, type, GREATEST(due_at, COALESCE(next_attempt_at, due_at)) AS due_at FROM operator_events
        WHERE status = 'pending' AND updated_at < now() - make_interval(secs => $1)
        ORDER BY updated_at LIMIT $2`,
      [quietMs / 1000, limit],
    )) as Array<{ id: string; type: OperatorEventType; due_at: Date }>;
    return rows.map((row) => ({ id: row.id, type: row.type, dueAt: row.due_at }));
  }

  /** Deletes every event that names the partner (in its data, by the wire's name), with its attempts; returns how many. */
  async deleteOfPartner(partnerId: string, db: SqlExecutor = this.dataSource): Promise<number> {
    const [events] = (await db.query(`DELETE FROM operator_events WHERE data->>'partnerUniqueId' = $1 RETURNING 1`, [partnerId])) as [
      unknown[],
      number,
    ];
    return events.length;
  }

  /**
   * Deletes at most `limit` events that ended (delivered or failed) before `cutoff`, with their
   * attempts (by cascade). Pending events stay, like pending notifications. Returns how many.
   */
  async deleteEnded(cutoff: Date, limit: number, db: SqlExecutor = this.dataSource): Promise<number> {
    const rows = (await db.query(
      `WITH doomed AS (
         SELECT id FROM operator_events WHERE status <> 'pending' AND updated_at < $1
          ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED
       ), gone AS (
         DELETE FROM operator_events e USING doomed d WHERE e.id = d.id RETURNING 1
       )
       SELECT count(*)::int AS deleted FROM gone`,
      [cutoff, limit],
    )) as Array<{ deleted: number }>;
    return rows[0].deleted;
  }
}
