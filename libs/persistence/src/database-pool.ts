import { Pool } from 'pg';
import { CONNECTION_TIMEOUT_MS, poolTimeouts } from './data-source';

/** The statement timeout of the hot-path pools when their caller names none (DATABASE_STATEMENT_TIMEOUT_MS's default). */
const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;

export interface DatabasePoolOptions {
  /** PostgreSQL's application_name: tells the pools apart in pg_stat_activity. */
  applicationName: string;
  /** Connections at most. */
  max: number;
  /**
   * false: commits do not wait for the WAL flush. For writes that the service redoes when a
   * PostgreSQL crash loses them (a delivery's attempt record, a callback's outcome bookkeeping).
   */
  synchronousCommit: boolean;
  /** PostgreSQL's statement_timeout (and the client's query_timeout beyond it); 30 s when not given. */
  statementTimeoutMs?: number;
}

/**
 * The one way to open a plain `pg` pool beside TypeORM's, for a hot path that batches its own
 * statements (prepared, grouped) or commits asynchronously. An idle connection that drops is
 * replaced by the next query.
 */
export function createDatabasePool(databaseUrl: string, options: DatabasePoolOptions): Pool {
  const pool = new Pool({
    connectionString: databaseUrl,
    max: options.max,
    connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
    ...poolTimeouts(options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS),
    application_name: options.applicationName,
    ...(options.synchronousCommit ? {} : { options: '-c synchronous_commit=off' }),
  });
  pool.on('error', () => undefined);
  return pool;
}
