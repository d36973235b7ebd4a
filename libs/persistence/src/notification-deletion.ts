/** How long an Idempotency-Key replays the first response; the retention sweep deletes older keys. */
export const IDEMPOTENCY_WINDOW_HOURS = 24;

/** A way to run one SQL statement: a DataSource, EntityManager or QueryRunner's `query`. */
export type SqlQuery = (sql: string, parameters: unknown[]) => Promise<unknown>;

/**
 * Which notifications a deletion takes ($1 is the argument). The retention sweep takes the oldest
 * terminal rows first (ix_notifications_retention); erasures take every row of a partner or case.
 */
const SELECTIONS = {
  expired: `status <> 'pending' AND updated_at < $1 ORDER BY updated_at`,
  partner: `partner_id = $1`,
  process: `process_unique_id = $1`,
  simulation: `simulation_unique_id = $1`,
} as const;

export type NotificationSelection = keyof typeof SELECTIONS;

export interface DeletedNotification {
  id: string;
  partnerId: string;
  notificationTypeId: number;
  deliveryRound: number;
  status: string;
}

export interface DeletedNotifications {
  notifications: DeletedNotification[];
  attempts: number;
  idempotencyKeys: number;
}

/**
 * Deletes at most `limit` notifications of `selection`, with their attempts and the idempotency
 * keys that point at them, in one statement (one short transaction). `skipLocked` passes over rows
 * another transaction holds (a delivery recording its attempt) instead of waiting for them: the
 * sweep's choice, so that it never waits on delivery; an erasure waits, since it must take them all.
 * A terminal row that became pending again meanwhile (a redelivery) is not "expired" any more: the
 * row lock re-checks the condition on the row's newest version.
 */
export async function deleteNotifications(
  query: SqlQuery,
  selection: NotificationSelection,
  argument: string | Date,
  limit: number,
  { skipLocked }: { skipLocked: boolean },
): Promise<DeletedNotifications> {
  const rows = (await query(
    `WITH doomed AS (
       SELECT id FROM notifications WHERE ${SELECTIONS[selection]} LIMIT $2 FOR UPDATE${skipLocked ? ' SKIP LOCKED' : ''}
     ), attempts AS (
       DELETE FROM delivery_attempts a USING doomed d WHERE a.notification_id = d.id RETURNING 1
     ), keys AS (
       DELETE FROM idempotency_keys k USING doomed d WHERE k.notification_id = d.id RETURNING 1
     ), gone AS (
       DELETE FROM notifications n USING doomed d WHERE n.id = d.id
       RETURNING n.id, n.partner_id, n.notification_type_id, n.delivery_round, n.status
     )
     SELECT gone.*, (SELECT count(*) FROM attempts)::int AS attempts, (SELECT count(*) FROM keys)::int AS keys FROM gone`,
    [argument, limit],
  )) as Array<{
    id: string;
    partner_id: string;
    notification_type_id: number;
    delivery_round: number;
    status: string;
    attempts: number;
    keys: number;
  }>;
  return {
    notifications: rows.map((row) => ({
      id: row.id,
      partnerId: row.partner_id,
      notificationTypeId: row.notification_type_id,
      deliveryRound: row.delivery_round,
      status: row.status,
    })),
    attempts: rows[0]?.attempts ?? 0,
    idempotencyKeys: rows[0]?.keys ?? 0,
  };
}

/**
 * Like deleteNotifications, in two steps inside the caller's transaction: locks at most `limit`
 * notifications of `selection` (waiting for rows others hold), hands them to `beforeDelete` (an
 * erasure removes their queued jobs there), then deletes them with their attempts and idempotency
 * keys. If `beforeDelete` throws, the caller's transaction rolls back and nothing of the batch is
 * gone: a repeated erasure finds the same rows, and their jobs, again.
 */
export async function deleteNotificationsAfter(
  query: SqlQuery,
  selection: Exclude<NotificationSelection, 'expired'>,
  argument: string,
  limit: number,
  beforeDelete: (notifications: DeletedNotification[]) => Promise<void>,
): Promise<DeletedNotifications> {
  const locked = (await query(
    `SELECT id, partner_id, notification_type_id, delivery_round, status FROM notifications WHERE ${SELECTIONS[selection]} LIMIT $2 FOR UPDATE`,
    [argument, limit],
  )) as Array<{ id: string; partner_id: string; notification_type_id: number; delivery_round: number; status: string }>;
  const notifications = locked.map((row) => ({
    id: row.id,
    partnerId: row.partner_id,
    notificationTypeId: row.notification_type_id,
    deliveryRound: row.delivery_round,
    status: row.status,
  }));
  if (notifications.length === 0) return { notifications, attempts: 0, idempotencyKeys: 0 };
  await beforeDelete(notifications);
  const [counts] = (await query(
    `WITH attempts AS (
       DELETE FROM delivery_attempts WHERE notification_id = ANY($1::uuid[]) RETURNING 1
     ), keys AS (
       DELETE FROM idempotency_keys WHERE notification_id = ANY($1::uuid[]) RETURNING 1
     ), gone AS (
       DELETE FROM notifications WHERE id = ANY($1::uuid[]) RETURNING 1
     )
     SELECT (SELECT count(*) FROM attempts)::int AS attempts, (SELECT count(*) FROM keys)::int AS keys, (SELECT count(*) FROM gone)::int AS gone`,
    [notifications.map((notification) => notification.id)],
  )) as Array<{ attempts: number; keys: number; gone: number }>;
  return { notifications, attempts: counts.attempts, idempotencyKeys: counts.keys };
}

/** Deletes at most `limit` idempotency keys whose window is over, skipping rows intake holds. Returns how many. */
export async function deleteExpiredIdempotencyKeys(query: SqlQuery, limit: number): Promise<number> {
  const rows = (await query(
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

/**
 * Deletes at most `limit` operator events that ended (delivered or failed) before `cutoff`, with
 * their attempts (by cascade). Pending events stay, like pending notifications. Returns how many.
 */
export async function deleteExpiredOperatorEvents(query: SqlQuery, cutoff: Date, limit: number): Promise<number> {
  const rows = (await query(
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
