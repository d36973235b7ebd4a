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
