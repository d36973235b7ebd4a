import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { SqlExecutor } from '../sql-executor';

/** How long an Idempotency-Key replays the first response; the retention sweep deletes older keys. */
export const IDEMPOTENCY_WINDOW_HOURS = 24;

/** The idempotency keys. Each method runs on `db` when given (a caller's transaction), else on its own. */
@Injectable()
export class IdempotencyKeyRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

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
