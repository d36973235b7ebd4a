import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { CallbackRef, NotificationStatus } from '@callbacks/contracts';
import { DeliveryAttemptEntity } from '../entities/delivery-attempt.entity';
import { NotificationEntity } from '../entities/notification.entity';
import type { SqlExecutor } from '../sql-executor';
import type { HeldNotification } from './delivery.repository';

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

/** The notifications an intake INSERT wrote, and its transaction's id (null when it wrote none). */
export interface WrittenNotifications {
  ids: Set<string>;
  txid: string | null;
}

export type TransactionStatus = 'committed' | 'aborted' | 'in progress';

export interface DeletedNotifications {
  notifications: DeletedNotification[];
  attempts: number;
  idempotencyKeys: number;
}

/**
 * A notification's delivery as its job needs it (the shape @callbacks/queue enqueues): a pending
 * row a reconciler pass found, or a row whose new delivery round has started.
 */
export interface NotificationDelivery {
  notificationId: string;
  partnerId: string;
  notificationTypeId: number;
  round: number;
  test: boolean;
  /** When its next attempt is due by the database's clock; null: at once. */
  dueAt: Date | null;
}

/** Where a page of overdue notifications ends: next_attempt_at as text (a JS Date would cut its microseconds) and the id. */
export interface OverduePageKey {
  at: string;
  id: string;
}

const FIRST_ID = '00000000-0000-0000-0000-000000000000';
export const FIRST_OVERDUE_PAGE: OverduePageKey = { at: '-infinity', id: FIRST_ID };

interface DeliveryRow {
  id: string;
  partner_id: string;
  notification_type_id: number;
  delivery_round: number;
  test: boolean;
  next_attempt_at: Date | null;
}

const DELIVERY_COLUMNS = 'id, partner_id, notification_type_id, delivery_round, test, next_attempt_at';

function toDelivery(row: DeliveryRow): NotificationDelivery {
  return {
    notificationId: row.id,
    partnerId: row.partner_id,
    notificationTypeId: row.notification_type_id,
    round: row.delivery_round,
    test: row.test,
    dueAt: row.next_attempt_at,
  };
}

/** A row whose new round has started: due at once (its due time is the database's now(), which another clock may not have reached). */
function dueNow(row: DeliveryRow): NotificationDelivery {
  return { ...toDelivery(row), dueAt: null };
}

/**
 * Starts a new delivery round for the rows an UPDATE matches: pending again, due now, the retry
 * schedule from the start, and a new round number, so a job still waiting from an older round
 * finds itself superseded and sends nothing. The webhook-id (the notification id) stays the same.
 */
const NEW_DELIVERY_ROUND = `status = 'pending', status_reason = NULL, round_attempts = 0, delivery_round = delivery_round + 1,
  next_attempt_at = now(), parked_at = NULL, waiting_for = NULL, updated_at = now()`;

/** Failed, or skipped while the service had disabled the callback; never skipped while the partner had paused it (callback_paused). */
const RECOVERABLE = `(status = 'failed' OR (status = 'skipped' AND status_reason = 'callback_disabled'))`;

/** Filters of the delivery log; each one given narrows it. */
export interface NotificationFilters {
  status?: NotificationStatus;
  notificationTypeId?: number;
  processUniqueId?: string;
  simulationUniqueId?: string;
  /** Only notifications inserted before this position (seq): the page after a cursor. */
  beforeSeq?: string;
}

/** A notification that intake writes. */
export interface AcceptedNotification {
  id: string;
  partnerId: string;
  notificationTypeId: number;
  /** The payload's JSON text as received: stored as it is. */
  payloadText: string;
  processUniqueId: string | null;
  simulationUniqueId: string | null;
  test: boolean;
  status: NotificationStatus;
  statusReason: string | null;
  /** Its idempotency key, if it came with one; null: none. */
  idempotency: { caller: string; key: string; requestHash: string | null } | null;
}

/**
 * The notifications aggregate (a notification, its attempts) outside the worker's delivery path
 * (see DeliveryRepository): the reconciler's paging, ending a disabled callback's notifications,
 * deletion. Each method runs on `db` when given (a caller's transaction), else on its own.
 */
@Injectable()
export class NotificationRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The partner's notification, or null (another partner's is not found either). */
  findOfPartner(partnerId: string, notificationId: string): Promise<NotificationEntity | null> {
    return this.dataSource.getRepository(NotificationEntity).findOne({ where: { id: notificationId, partnerId } });
  }

  /** A notification's attempts, first to last. */
  attempts(notificationId: string): Promise<DeliveryAttemptEntity[]> {
    return this.dataSource.getRepository(DeliveryAttemptEntity).find({ where: { notificationId }, order: { attempt: 'ASC' } });
  }

  /** The partner's delivery log, newest first (by insertion order, stable while new rows arrive), at most `limit` rows. */
  page(partnerId: string, filters: NotificationFilters, limit: number): Promise<NotificationEntity[]> {
    const builder = this.dataSource
      .getRepository(NotificationEntity)
      .createQueryBuilder('n')
      .where('n.partner_id = :partnerId', { partnerId });
    if (filters.status) builder.andWhere('n.status = :status', { status: filters.status });
    if (filters.notificationTypeId !== undefined)
      builder.andWhere('n.notification_type_id = :typeId', { typeId: filters.notificationTypeId });
    if (filters.processUniqueId !== undefined)
      builder.andWhere('n.process_unique_id = :processUniqueId', { processUniqueId: filters.processUniqueId });
    if (filters.simulationUniqueId !== undefined)
      builder.andWhere('n.simulation_unique_id = :simulationUniqueId', { simulationUniqueId: filters.simulationUniqueId });
    if (filters.beforeSeq !== undefined) builder.andWhere('n.seq < :before', { before: filters.beforeSeq });
    return builder.orderBy('n.seq', 'DESC').limit(limit).getMany();
  }

  /** A new delivery round for the partner's notification; null when it has none by that id. */
  async startRound(partnerId: string, notificationId: string, db: SqlExecutor = this.dataSource): Promise<NotificationDelivery | null> {
    const [rows] = (await db.query(
      `UPDATE notifications SET ${NEW_DELIVERY_ROUND} WHERE id = $1 AND partner_id = $2 RETURNING ${DELIVERY_COLUMNS}`,
      [notificationId, partnerId],
    )) as [DeliveryRow[], number];
    return rows[0] ? dueNow(rows[0]) : null;
  }

  /**
   * A new delivery round for at most `limit` recoverable notifications (failed, or skipped because
   * their callback was disabled) of the partner's `types` accepted in [since, until). One UPDATE …
   * RETURNING takes the rows: a second call while the first runs finds them pending and takes none.
   * A recovery is out of band (a later round is never held behind its case), but it is sent in
   * order: the rows come back in acceptance order, which is sequence order within each case.
   */
  async startRecoveryRounds(
    partnerId: string,
    types: number[],
    window: { since: Date; until: Date | null },
    limit: number,
    db: SqlExecutor = this.dataSource,
  ): Promise<NotificationDelivery[]> {
    // In acceptance order, and within a case in sequence order: the jobs are added in that order.
    const rows = (await db.query(
      `WITH taken AS (
         UPDATE notifications SET ${NEW_DELIVERY_ROUND}
          WHERE id IN (
                  SELECT id FROM notifications
                   WHERE partner_id = $1 AND notification_type_id = ANY($2::smallint[]) AND created_at >= $3
                     AND ($4::timestamptz IS NULL OR created_at < $4) AND ${RECOVERABLE}
                   LIMIT $5 FOR UPDATE)
            AND ${RECOVERABLE}
          RETURNING ${DELIVERY_COLUMNS}, created_at, case_sequence
       )
       SELECT ${DELIVERY_COLUMNS} FROM taken ORDER BY created_at, case_sequence NULLS LAST, id`,
      [partnerId, types, window.since, window.until, limit],
    )) as DeliveryRow[];
    return rows.map(dueNow);
  }

  /** For each callback, in order: does its partner exist, is the callback enabled (null: there is none), and if not, why. */
  async intakeTargets(
    callbacks: CallbackRef[],
    db: SqlExecutor = this.dataSource,
  ): Promise<Array<{ partnerExists: boolean; enabled: boolean | null; disabledReason: string | null; ordered: boolean }>> {
    const rows = (await db.query(
      `SELECT p.id IS NOT NULL AS partner_exists, c.enabled, c.disabled_reason, coalesce(c.delivery_ordering = 'case', false) AS ordered
         FROM unnest($1::uuid[], $2::smallint[]) WITH ORDINALITY AS i(partner_id, type_id, ord)
         LEFT JOIN partners p ON p.id = i.partner_id
         LEFT JOIN callbacks c ON c.partner_id = i.partner_id AND c.notification_type_id = i.type_id
        ORDER BY i.ord`,
      [callbacks.map((callback) => callback.partnerId), callbacks.map((callback) => callback.notificationTypeId)],
    )) as Array<{ partner_exists: boolean; enabled: boolean | null; disabled_reason: string | null; ordered: boolean }>;
    return rows.map((row) => ({
      partnerExists: row.partner_exists,
      enabled: row.enabled,
      disabledReason: row.disabled_reason,
      ordered: row.ordered,
    }));
  }

  /**
   * Numbers the given notifications in their cases (case_sequence 1, 2, 3… per callback and case),
   * in the order given (acceptance order), inside the intake transaction. The counter row of each
   * case is upserted and so locked until the commit: concurrent intakes of one case take their
   * numbers one after the other, with no gap and no repeat. Rows are locked in key order, so two
   * transactions with several cases in common cannot deadlock. Only pending notifications of an
   * ordered callback that name a case are numbered (the callback's ordering is read here, in the
   * transaction, not trusted from the caller).
   */
  async assignCaseSequences(ids: string[], db: SqlExecutor = this.dataSource): Promise<void> {
    if (ids.length === 0) return;
    await db.query(
      `WITH input AS (
         SELECT * FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, ord)
       ), cased AS (
         SELECT n.id, i.ord, n.partner_id, n.notification_type_id,
                CASE WHEN n.process_unique_id IS NOT NULL THEN 'p' ELSE 's' END AS case_kind,
                coalesce(n.process_unique_id, n.simulation_unique_id) AS case_id
           FROM input i
           JOIN notifications n ON n.id = i.id
           JOIN callbacks c ON c.partner_id = n.partner_id AND c.notification_type_id = n.notification_type_id
          WHERE c.delivery_ordering = 'case' AND n.status = 'pending' AND NOT n.test AND n.case_sequence IS NULL
            AND coalesce(n.process_unique_id, n.simulation_unique_id) IS NOT NULL
       ), counts AS (
         SELECT partner_id, notification_type_id, case_kind, case_id, count(*)::int AS taken
           FROM cased GROUP BY partner_id, notification_type_id, case_kind, case_id
       ), bumped AS (
         INSERT INTO case_sequences AS s (partner_id, notification_type_id, case_kind, case_id, last_sequence)
         SELECT partner_id, notification_type_id, case_kind, case_id, taken FROM counts
          ORDER BY partner_id, notification_type_id, case_kind, case_id
         ON CONFLICT (partner_id, notification_type_id, case_kind, case_id)
         DO UPDATE SET last_sequence = s.last_sequence + EXCLUDED.last_sequence
         RETURNING partner_id, notification_type_id, case_kind, case_id, last_sequence
       ), numbered AS (
         SELECT x.id,
                b.last_sequence - k.taken
                  + row_number() OVER (PARTITION BY x.partner_id, x.notification_type_id, x.case_kind, x.case_id ORDER BY x.ord) AS sequence
           FROM cased x
           JOIN counts k USING (partner_id, notification_type_id, case_kind, case_id)
           JOIN bumped b USING (partner_id, notification_type_id, case_kind, case_id)
       )
       UPDATE notifications n SET case_sequence = numbered.sequence FROM numbered WHERE n.id = numbered.id`,
      [ids],
    );
  }

  /**
   * One statement writes the notifications and their idempotency keys. A key that another
   * transaction holds is skipped (ON CONFLICT waits for that transaction), and so is its
   * notification; returns the ids written.
   */
  async insertAccepted(notifications: AcceptedNotification[], db: SqlExecutor = this.dataSource): Promise<WrittenNotifications> {
    if (notifications.length === 0) return { ids: new Set(), txid: null };
    const column = <T>(value: (notification: AcceptedNotification) => T) => notifications.map(value);
    const written = (await db.query(
      `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::smallint[], $4::text[], $5::varchar[], $6::varchar[], $7::boolean[], $8::varchar[], $9::varchar[], $10::varchar[], $11::varchar[], $12::char(64)[])
           AS t(id, partner_id, notification_type_id, payload, process_unique_id, simulation_unique_id, test, status, status_reason, caller, key, request_hash)
       ), keyed AS (
         INSERT INTO idempotency_keys (caller, key, notification_id, response_status, request_hash)
         SELECT caller, key, id, status, request_hash FROM input WHERE key IS NOT NULL
         ON CONFLICT DO NOTHING
         RETURNING notification_id
       )
       INSERT INTO notifications (id, partner_id, notification_type_id, payload, process_unique_id, simulation_unique_id, test, status, status_reason, next_attempt_at)
       SELECT id, partner_id, notification_type_id, payload::json, process_unique_id, simulation_unique_id, test, status, status_reason,
              CASE WHEN status = 'pending' THEN now() END
         FROM input WHERE key IS NULL OR id IN (SELECT notification_id FROM keyed)
       RETURNING id, pg_current_xact_id()::text AS txid`,
      [
        column((notification) => notification.id),
        column((notification) => notification.partnerId),
        column((notification) => notification.notificationTypeId),
        column((notification) => notification.payloadText),
        column((notification) => notification.processUniqueId),
        column((notification) => notification.simulationUniqueId),
        column((notification) => notification.test),
        column((notification) => notification.status),
        column((notification) => notification.statusReason),
        column((notification) => notification.idempotency?.caller ?? null),
        column((notification) => notification.idempotency?.key ?? null),
        column((notification) => notification.idempotency?.requestHash ?? null),
      ],
    )) as Array<{ id: string; txid: string }>;
    return { ids: new Set(written.map((row) => row.id)), txid: written[0]?.txid ?? null };
  }

  /** What became of transactions, by id (pg_xact_status): committed, aborted, in progress, or null when too old to tell. */
  async transactionStatuses(txids: string[], db: SqlExecutor = this.dataSource): Promise<Map<string, TransactionStatus | null>> {
    if (txids.length === 0) return new Map();
    const rows = (await db.query(`SELECT txid, pg_xact_status(txid::xid8) AS status FROM unnest($1::text[]) AS t(txid)`, [
      txids,
    ])) as Array<{
      txid: string;
      status: TransactionStatus | null;
    }>;
    return new Map(rows.map((row) => [row.txid, row.status]));
  }

  /**
   * Deletes notifications an intake request gave up on (answered 503 while their commit was in
   * doubt), and their idempotency keys, so a retry writes anew. Never enqueued, they have no attempts.
   */
  async deleteAbandoned(ids: string[], db: SqlExecutor = this.dataSource): Promise<number> {
    if (ids.length === 0) return 0;
    const [, deleted] = (await db.query(
      `WITH keys AS (DELETE FROM idempotency_keys WHERE notification_id = ANY($1::uuid[]))
       DELETE FROM notifications WHERE id = ANY($1::uuid[])`,
      [ids],
    )) as [unknown, number];
    return deleted;
  }

  /**
   * Forgets the case's sequence counters (an erasure: they hold the case id). Events about the case
   * accepted afterwards are numbered from 1 again.
   */
  async eraseCaseSequences(selection: 'process' | 'simulation', caseId: string, db: SqlExecutor = this.dataSource): Promise<void> {
    await db.query(`DELETE FROM case_sequences WHERE case_kind = $1 AND case_id = $2`, [selection === 'process' ? 'p' : 's', caseId]);
  }

  /**
   * Held notifications whose predecessor has ended (or is gone, or went out of band) and that are
   * still marked waiting: their wake was lost (a worker died between the two, or Redis lost the
   * job). At most one per case: only the one right behind the ended predecessor.
   */
  async lostWakes(limit: number, db: SqlExecutor = this.dataSource): Promise<HeldNotification[]> {
    const rows = (await db.query(
      `SELECT n.id, n.partner_id, n.notification_type_id, n.test
         FROM notifications n LEFT JOIN notifications p ON p.id = n.waiting_for
        WHERE n.waiting_for IS NOT NULL AND n.status = 'pending' AND n.delivery_round = 0 AND (p.id IS NULL OR p.status <> 'pending' OR p.delivery_round > 0)
        LIMIT $1`,
      [limit],
    )) as Array<{ id: string; partner_id: string; notification_type_id: number; test: boolean }>;
    return rows.map((row) => ({
      notificationId: row.id,
      partnerId: row.partner_id,
      notificationTypeId: row.notification_type_id,
      test: row.test,
    }));
  }

  /** now() minus `periodMs` by the database's clock (the one that wrote updated_at): what is older has expired. */
  async retentionCutoff(periodMs: number, db: SqlExecutor = this.dataSource): Promise<Date> {
    const [{ cutoff }] = (await db.query('SELECT now() - make_interval(secs => $1) AS cutoff', [periodMs / 1000])) as Array<{
      cutoff: Date;
    }>;
    return cutoff;
  }

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
   * Parked rows are not in that index: however large a parked backlog, a pass does not read it.
   */
  async overduePage(
    cutoff: string,
    after: OverduePageKey,
    limit: number,
    db: SqlExecutor = this.dataSource,
  ): Promise<{ rows: NotificationDelivery[]; next: OverduePageKey | null }> {
    const rows = (await db.query(
      `SELECT ${DELIVERY_COLUMNS}, next_attempt_at::text AS page_at
         FROM notifications
        WHERE status = 'pending' AND parked_at IS NULL AND next_attempt_at < $1::timestamptz
          AND (next_attempt_at, id) > ($2::timestamptz, $3::uuid)
        ORDER BY next_attempt_at, id LIMIT $4`,
      [cutoff, after.at, after.id, limit],
    )) as Array<DeliveryRow & { page_at: string }>;
    const last = rows[rows.length - 1];
    return { rows: rows.map(toDelivery), next: last ? { at: last.page_at, id: last.id } : null };
  }

  /**
   * Pending notifications without a due time (a failed job retried from Bull Board reopens its row
   * so), unchanged since `cutoff`, after the id `after`: the same index, its NULL end, in id order.
   */
  async undatedPage(cutoff: string, after: string, limit: number, db: SqlExecutor = this.dataSource): Promise<NotificationDelivery[]> {
    const rows = (await db.query(
      `SELECT ${DELIVERY_COLUMNS}
         FROM notifications
        WHERE status = 'pending' AND parked_at IS NULL AND next_attempt_at IS NULL AND updated_at < $1::timestamptz AND id > $2
        ORDER BY next_attempt_at, id LIMIT $3`,
      [cutoff, after, limit],
    )) as DeliveryRow[];
    return rows.map(toDelivery);
  }

  /** Parked pending notifications after the id `after`, in id order. */
  async parkedPage(after: string, limit: number, db: SqlExecutor = this.dataSource): Promise<NotificationDelivery[]> {
    const rows = (await db.query(
      `SELECT ${DELIVERY_COLUMNS}
         FROM notifications
        WHERE parked_at IS NOT NULL AND status = 'pending' AND id > $1
        ORDER BY id LIMIT $2`,
      [after, limit],
    )) as DeliveryRow[];
    return rows.map(toDelivery);
  }

  /** Ends every pending notification of a callback failed with `reason`; returns them (id and round) in the order ended. */
  async failPending(
    callback: CallbackRef,
    reason: string,
    db: SqlExecutor = this.dataSource,
  ): Promise<Array<{ notificationId: string; round: number }>> {
    const [rows] = (await db.query(
      `UPDATE notifications SET status = 'failed', status_reason = $3, next_attempt_at = NULL, parked_at = NULL, waiting_for = NULL, updated_at = now()
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
   * An erasure's batch, in one transaction of its own: locks at most `limit` notifications of
   * `selection` (waiting for rows others hold), hands them to `beforeDelete` (the erasure removes
   * their queued jobs there), then deletes them with their attempts and idempotency keys. If
   * `beforeDelete` throws, the transaction rolls back and nothing of the batch is gone: a repeated
   * erasure finds the same rows, and their jobs, again.
   */
  async deleteBatchAfter(
    selection: Exclude<NotificationSelection, 'expired'>,
    argument: string,
    limit: number,
    beforeDelete: (notifications: DeletedNotification[]) => Promise<void>,
  ): Promise<DeletedNotifications> {
    return this.dataSource.transaction(async (db) => {
      const locked = (await db.query(
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
      const [counts] = (await db.query(
        `WITH attempts AS (
           DELETE FROM delivery_attempts WHERE notification_id = ANY($1::uuid[]) RETURNING 1
         ), keys AS (
           DELETE FROM idempotency_keys WHERE notification_id = ANY($1::uuid[]) RETURNING 1
         ), gone AS (
           DELETE FROM notifications WHERE id = ANY($1::uuid[]) RETURNING 1
         )
         SELECT (SELECT count(*) FROM attempts)::int AS attempts, (SELECT count(*) FROM keys)::int AS keys`,
        [notifications.map((notification) => notification.id)],
      )) as Array<{ attempts: number; keys: number }>;
      return { notifications, attempts: counts.attempts, idempotencyKeys: counts.keys };
    });
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
