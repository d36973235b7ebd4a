import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { NotificationStatus } from '@callbacks/contracts';
import type { SqlExecutor } from '../sql-executor';

/** How long an Idempotency-Key replays the first response; the retention sweep deletes older keys. */
export const IDEMPOTENCY_WINDOW_HOURS = 24;

/** A key as a caller sent it: keys are scoped to their caller. */
export interface CallerKey {
  caller: string;
  key: string;
}

/** A stored key and the response it replays. */
export interface StoredIdempotencyKey {
  notificationId: string;
  responseStatus: NotificationStatus;
  /** What the key is bound to (see intake); null for keys stored before it was. */
  requestHash: string | null;
  /** Within IDEMPOTENCY_WINDOW_HOURS: it replays; an older one is replaced. */
  fresh: boolean;
}

/** The map key of a caller's key in find()'s answer. */
export function callerKey({ caller, key }: CallerKey): string {
  return `${caller}\n${key}`;
}

/** The idempotency keys. Each method runs on `db` when given (a caller's transaction), else on its own. */
@Injectable()
export class IdempotencyKeyRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The stored keys among `keys`, by callerKey(). */
  async find(keys: CallerKey[], db: SqlExecutor = this.dataSource): Promise<Map<string, StoredIdempotencyKey>> {
    if (keys.length === 0) return new Map();
    const rows = (await db.query(
      `SELECT caller, key, notification_id, response_status, request_hash, created_at > now() - make_interval(hours => $3) AS fresh
         FROM idempotency_keys WHERE (caller, key) IN (SELECT * FROM unnest($1::varchar[], $2::varchar[]))`,
      [keys.map((key) => key.caller), keys.map((key) => key.key), IDEMPOTENCY_WINDOW_HOURS],
    )) as Array<{
      caller: string;
      key: string;
      notification_id: string;
      response_status: NotificationStatus;
      request_hash: string | null;
      fresh: boolean;
    }>;
    return new Map(
      rows.map((row) => [
        callerKey(row),
        { notificationId: row.notification_id, responseStatus: row.response_status, requestHash: row.request_hash, fresh: row.fresh },
      ]),
    );
  }

  async delete(keys: CallerKey[], db: SqlExecutor = this.dataSource): Promise<void> {
    if (keys.length === 0) return;
    await db.query(`DELETE FROM idempotency_keys WHERE (caller, key) IN (SELECT * FROM unnest($1::varchar[], $2::varchar[]))`, [
      keys.map((key) => key.caller),
      keys.map((key) => key.key),
    ]);
  }

  /** Deletes at most `limit` keys whose window is over, skipping rows intake holds. Returns how many. */
  async deleteExpired(limit: number, db: SqlExecutor = this.dataSource): Promise<number> {
    const rows = (await db.query(
      `WITH doomed AS (
         SELECT caller, key FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)
          ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED
       ), gone AS (
         DELETE FROM idempotency_keys k USING doomed d WHERE k.caller = d.caller AND k.key = d.key RETURNING 1
       )
       SELECT count(*)::int AS deleted FROM gone`,
      [IDEMPOTENCY_WINDOW_HOURS, limit],
    )) as Array<{ deleted: number }>;
    return rows[0].deleted;
  }
}
