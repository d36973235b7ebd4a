import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { CallbackRef } from '@callbacks/contracts';
import type { SqlExecutor } from '../sql-executor';

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

/** A pending notification as a reconciler pass reads it: enough to look up and re-add its job. */
export interface PendingNotification {
  id: string;
  partnerId: string;
  notificationTypeId: number;
  deliveryRound: number;
  test: boolean;
  nextAttemptAt: Date | null;
}

/** Where a page of overdue notifications ends: next_attempt_at as text (a JS Date would cut its microseconds) and the id. */
export interface OverduePageKey {
  at: string;
  id: string;
}

const FIRST_ID = '00000000-0000-0000-0000-000000000000';
export const FIRST_OVERDUE_PAGE: OverduePageKey = { at: '-infinity', id: FIRST_ID };

interface PendingRow {
  id: string;
  partner_id: string;
  notification_type_id: number;
  delivery_round: number;
  test: boolean;
  next_attempt_at: Date | null;
}

const PENDING_COLUMNS = 'id, partner_id, notification_type_id, delivery_round, test, next_attempt_at';

function toPending(row: PendingRow): PendingNotification {
  return {
    id: row.id,
    partnerId: row.partner_id,
    notificationTypeId: row.notification_type_id,
    deliveryRound: row.delivery_round,
    test: row.test,
    nextAttemptAt: row.next_attempt_at,
  };
}

/**
 * The notifications aggregate (a notification, its attempts) outside the worker's delivery path
 * (see DeliveryRepository): the reconciler's paging, ending a disabled callback's notifications,
 * deletion. Each method runs on `db` when given (a caller's transaction), else on its own.
 */
@Injectable()
export class NotificationRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** now() minus `graceMs` by the database's clock, as text (the paging key's precision). */
  async overdueCutoff(graceMs: number, db: SqlExecutor = this.dataSource): Promise<string> {
    const [{ cutoff }] = (await db.query('SELECT (now() - make_interval(secs => $1))::text AS cutoff', [graceMs / 1000])) as Array<{
      cutoff: string;
    }>;
    return cutoff;
  }

  /**
   * Pending notifications due before `cutoff`, after `after` in the order of ix_notifications_overdue
   * (next_attempt_at, id), which is also the paging key. Returns the page and the key after it.
   */
  async overduePage(
    cutoff: string,
    after: OverduePageKey,
    limit: number,
    db: SqlExecutor = this.dataSource,
  ): Promise<{ rows: PendingNotification[]; next: OverduePageKey | null }> {
    const rows = (await db.query(
      `SELECT ${PENDING_COLUMNS}, next_attempt_at::text AS page_at
         FROM notifications
        WHERE status = 'pending' AND next_attempt_at < $1::timestamptz AND (next_attempt_at, id) > ($2::timestamptz, $3::uuid)
        ORDER BY next_attempt_at, id LIMIT $4`,
      [cutoff, after.at, after.id, limit],
    )) as Array<PendingRow & { page_at: string }>;
    const last = rows[rows.length - 1];
    return { rows: rows.map(toPending), next: last ? { at: last.page_at, id: last.id } : null };
  }

  /**
   * Pending notifications without a due time (a failed job retried from Bull Board reopens its row
   * so), unchanged since `cutoff`, after the id `after`: the same index, its NULL end, in id order.
   */
  async undatedPage(cutoff: string, after: string, limit: number, db: SqlExecutor = this.dataSource): Promise<PendingNotification[]> {
    const rows = (await db.query(
      `SELECT ${PENDING_COLUMNS}
         FROM notifications
        WHERE status = 'pending' AND next_attempt_at IS NULL AND updated_at < $1::timestamptz AND id > $2
        ORDER BY next_attempt_at, id LIMIT $3`,
      [cutoff, after, limit],
    )) as PendingRow[];
    return rows.map(toPending);
  }

  /** Parked pending notifications after the id `after`, in id order. */
  async parkedPage(after: string, limit: number, db: SqlExecutor = this.dataSource): Promise<PendingNotification[]> {
    const rows = (await db.query(
      `SELECT ${PENDING_COLUMNS}
         FROM notifications
        WHERE parked_at IS NOT NULL AND status = 'pending' AND id > $1
        ORDER BY id LIMIT $2`,
      [after, limit],
    )) as PendingRow[];
    return rows.map(toPending);
  }

  /** Ends every pending notification of a callback failed with `reason`; returns them (id and round) in the order ended. */
  async failPending(
    callback: CallbackRef,
    reason: string,
    db: SqlExecutor = this.dataSource,
  ): Promise<Array<{ notificationId: string; round: number }>> {
    const [rows] = (await db.query(
      `UPDATE notifications SET status = 'failed', status_reason = $3, next_attempt_at = NULL, updated_at = now()
        WHERE partner_id = $1 AND notification_type_id = $2 AND status = 'pending'
        RETURNING id, delivery_round`,
      [callback.partnerId, callback.notificationTypeId, reason],
    )) as [Array<{ id: string; delivery_round: number }>, number];
    return rows.map((row) => ({ notificationId: row.id, round: row.delivery_round }));
  }

  /** The status code and error of a notification's latest attempt; null without attempts. */
  async lastAttempt(
    notificationId: string,
    db: SqlExecutor = this.dataSource,
  ): Promise<{ statusCode: number | null; error: string | null } | null> {
    const [row] = (await db.query(
      `SELECT status_code, error FROM delivery_attempts WHERE notification_id = $1 ORDER BY attempt DESC LIMIT 1`,
      [notificationId],
    )) as Array<{ status_code: number | null; error: string | null }>;
    return row ? { statusCode: row.status_code, error: row.error } : null;
  }

  /**
   * Deletes at most `limit` notifications of `selection`, with their attempts and the idempotency
   * keys that point at them, in one statement (one short transaction). `skipLocked` passes over rows
   * another transaction holds (a delivery recording its attempt) instead of waiting for them: the
   * sweep's choice, so that it never waits on delivery; an erasure waits, since it must take them all.
   * A terminal row that became pending again meanwhile (a redelivery) is not "expired" any more: the
   * row lock re-checks the condition on the row's newest version.
   */
  async deleteBatch(
    selection: NotificationSelection,
    argument: string | Date,
    limit: number,
    { skipLocked }: { skipLocked: boolean },
    db: SqlExecutor = this.dataSource,
  ): Promise<DeletedNotifications> {
    const rows = (await db.query(
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
}
