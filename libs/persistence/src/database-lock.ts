import type { SqlExecutor } from './sql-executor';

/**
 * Every PostgreSQL advisory lock id the service takes, in one place (any constant works; it names
 * the lock). A previous release running beside a new one during an upgrade takes the same ids, so
 * never renumber one: session and transaction advisory locks on one id exclude each other.
 */
export enum DatabaseLock {
  /** The delivery reconciler's pass (one worker at a time). */
  Reconciler = 7_243_001,
  /** The retention sweep. */
  RetentionSweep = 7_243_002,
  /** The operator-event reconciler's pass. */
  OperatorEventReconciler = 7_243_011,
}

/**
 * Tries `lock` without waiting. `transaction`: held until the transaction `db` is in ends;
 * `session`: held until unlockDatabase (or the connection closes). Both kinds on one id exclude each other.
 */
export async function tryLockDatabase(db: SqlExecutor, lock: DatabaseLock, scope: 'transaction' | 'session'): Promise<boolean> {
  const lockFunction = scope === 'transaction' ? 'pg_try_advisory_xact_lock' : 'pg_try_advisory_lock';
  const [{ locked }] = (await db.query(`SELECT ${lockFunction}($1) AS locked`, [lock])) as Array<{ locked: boolean }>;
  return locked;
}

/** Releases a session-scoped lock taken on `db`. */
export async function unlockDatabase(db: SqlExecutor, lock: DatabaseLock): Promise<void> {
  await db.query('SELECT pg_advisory_unlock($1)', [lock]);
}
