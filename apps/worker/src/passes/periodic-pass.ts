import type { Counter } from 'prom-client';
import type { AppConfig } from '@callbacks/config';
import type { Metrics } from '@callbacks/observability';
import type { DatabaseLock, SqlExecutor } from '@callbacks/persistence';

type KeysOf<T, V> = { [K in keyof T]-?: T[K] extends V ? K : never }[keyof T];
/** The setting that says how often a pass runs, in ms (e.g. reconcileIntervalMs). */
export type PassInterval = KeysOf<AppConfig, number>;
/** The counter of a pass's runs by result (e.g. reconcilerRuns, webhook_reconciler_runs_total). */
export type PassRuns = KeysOf<Metrics, Counter<'result'>>;

/** What the runner hands a pass's body. */
export interface PassContext {
  /**
   * The connection that holds the pass's lock: inside the lock's transaction for a
   * transaction-scoped lock (what the body reads there is one snapshot), else a session whose
   * statements each commit on their own.
   */
  db: SqlExecutor;
  /** Aborted when the worker shuts down: a long body stops between two batches. */
  signal: AbortSignal;
}

/**
 * Work that one worker of the deployment does every interval (the one that gets the pass's
 * advisory lock). A pass is its name, interval, lock, metric and body; PeriodicPassRunner owns the
 * timer, the overlap guard, the lock, the metric's `result` label (ran, skipped_locked, error), the
 * error log, the stop signal and the shutdown wait.
 */
export interface PeriodicPass<Report = unknown> {
  /** For logs ("<name> failed; the next pass tries again"). */
  readonly name: string;
  readonly interval: PassInterval;
  /** Without it the pass always runs; false: the runner never starts it (its feature is not configured). */
  enabled?(config: AppConfig): boolean;
  /**
   * `transaction`: pg_try_advisory_xact_lock, held until the body's transaction ends (a body that
   * reads one snapshot). `session`: pg_try_advisory_lock, released after the body, whose statements
   * commit one by one (a body that deletes batch by batch).
   */
  readonly lock: { id: DatabaseLock; scope: 'transaction' | 'session' };
  /** Counts the passes by `result`. */
  readonly runs: PassRuns;
  run(context: PassContext): Promise<Report>;
}

/** Nest token of the list of passes the runner runs (see periodic-passes.ts). */
export const PERIODIC_PASSES = Symbol('PERIODIC_PASSES');
