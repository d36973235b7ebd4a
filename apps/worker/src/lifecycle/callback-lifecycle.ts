import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import type { AttemptErrorKind } from '@callbacks/contracts';
import { Metrics } from '@callbacks/observability';
import { deliveryJobId, DeliveryQueues } from '@callbacks/queue';
import type { CallbackRef } from '../isolation/callback-guard';
import { OperatorEvents } from './operator-events';
import { type OutcomeSummary, OutcomeWindows } from './outcome-window';

/** Each worker writes a callback's outcome state at most this often (plus once at the start of a burst). */
export const OUTCOME_WRITE_INTERVAL_MS = 1_000;
const JOB_REMOVALS_IN_PARALLEL = 100;

export interface RecordedAttempt {
  ok: boolean;
  at: Date;
  statusCode: number | null;
  error: AttemptErrorKind | string | null;
  /** The circuit transition the attempt caused ("opened" marks the callback's circuit_opened_at). */
  circuit?: string;
}

export interface FailedNotification {
  notificationId: string;
  statusReason: string;
  statusCode: number | null;
  error: string | null;
}

interface OutcomeRow {
  enabled: boolean;
  callback_url: string;
  failing_since: Date | null;
  was_opened: Date | null;
  now_opened: Date | null;
}

/*
 * One statement folds a worker's outcome summary into the callback row, and writes only when
 * something changes: last_success_at moves forward; failing_since is the earliest known failure
 * after the last success (null if none); a success after circuit_opened_at clears it.
 */
const APPLY_OUTCOMES = `
  WITH cur AS (
    SELECT id, enabled, callback_url, last_success_at, failing_since, circuit_opened_at
      FROM callbacks WHERE partner_id = $1 AND notification_type_id = $2 FOR UPDATE
  ), nxt AS (
    SELECT cur.*,
           GREATEST(last_success_at, $3::timestamptz) AS new_success,
           (SELECT min(t) FROM unnest(ARRAY[failing_since, $4::timestamptz]) AS t
             WHERE t > COALESCE(GREATEST(last_success_at, $3::timestamptz), '-infinity')) AS new_failing,
           CASE WHEN circuit_opened_at <= $3::timestamptz THEN NULL ELSE circuit_opened_at END AS new_opened
      FROM cur
  ), upd AS (
    UPDATE callbacks c SET last_success_at = n.new_success, failing_since = n.new_failing, circuit_opened_at = n.new_opened
      FROM nxt n
     WHERE c.id = n.id
       AND (c.last_success_at IS DISTINCT FROM n.new_success OR c.failing_since IS DISTINCT FROM n.new_failing OR c.circuit_opened_at IS DISTINCT FROM n.new_opened)
  )
  SELECT enabled, callback_url, new_failing AS failing_since, circuit_opened_at AS was_opened, new_opened AS now_opened FROM nxt`;

/**
 * The callback lifecycle as the worker sees it (see the README's lifecycle section):
 * - bookkeeping of failingSince / lastSuccessAt from attempt outcomes, throttled per callback;
 * - auto-disable: the first outcome write that finds the callback failing for
 *   CALLBACK_DISABLE_AFTER disables it, ends its pending notifications failed (callback_disabled)
 *   and tells the operator (callback.disabled);
 * - callback.recovered on the first success after the circuit had opened;
 * - notification.exhausted (coalesced) when a notification ends failed.
 * Nothing here may slow or fail a delivery: errors are logged, and the next outcome tries again.
 */
@Injectable()
export class CallbackLifecycle implements OnApplicationShutdown {
  private readonly outcomes: OutcomeWindows<CallbackRef>;
  private readonly inFlight = new Set<Promise<unknown>>();
  /**
   * Outcome bookkeeping has its own small pool with synchronous_commit=off (1.4 ms a write instead
   * of 5.7 ms with a WAL flush, measured): a write lost in a PostgreSQL crash is redone by the next
   * outcome. Disabling, which ends notifications and records operator events, commits synchronously.
   */
  private readonly outcomePool: Pool;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly queues: DeliveryQueues,
    private readonly operatorEvents: OperatorEvents,
    private readonly metrics: Metrics,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('CallbackLifecycle');
    this.outcomePool = new Pool({
      connectionString: config.databaseUrl,
      max: 2,
      connectionTimeoutMillis: 5_000,
      application_name: 'partner-callbacks-lifecycle',
      options: '-c synchronous_commit=off',
    });
    this.outcomePool.on('error', () => undefined); // an idle connection dropped; the next query reconnects
    this.outcomes = new OutcomeWindows(OUTCOME_WRITE_INTERVAL_MS, (ref, summary) =>
      this.track(this.applyOutcomes(ref, summary), ref, 'recording attempt outcomes'),
    );
  }

  /** After an attempt is recorded (circuit_open attempts included: they count as failures). */
  attemptRecorded(ref: CallbackRef, attempt: RecordedAttempt): void {
    if (attempt.circuit === 'opened') this.track(this.circuitOpened(ref, attempt.at), ref, 'marking the circuit opened');
    this.outcomes.record(`${ref.partnerId}:${ref.notificationTypeId}`, ref, attempt.ok, attempt.at);
  }

  /** A notification ended failed (retries exhausted, blocked address, worker crash…). */
  notificationFailed(ref: CallbackRef, failed: FailedNotification): void {
    const data = { partnerUniqueId: ref.partnerId, notificationTypeId: ref.notificationTypeId, ...failed };
    this.track(
      this.operatorEvents.exhausted(this.dataSource, data).then((event) => this.operatorEvents.enqueue([event])),
      ref,
      'recording notification.exhausted',
    );
  }

  async onApplicationShutdown(): Promise<void> {
    this.outcomes.flushAll();
    await Promise.allSettled([...this.inFlight]);
    await this.outcomePool.end();
  }

  private track(work: Promise<unknown>, ref: CallbackRef, what: string): void {
    const tracked = work.catch((error: unknown) =>
      this.logger.warn(
        { err: error, partnerId: ref.partnerId, notificationTypeId: ref.notificationTypeId },
        `callback lifecycle: ${what} failed`,
      ),
    );
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }

  private async circuitOpened(ref: CallbackRef, at: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE callbacks SET circuit_opened_at = $3 WHERE partner_id = $1 AND notification_type_id = $2 AND circuit_opened_at IS NULL`,
      [ref.partnerId, ref.notificationTypeId, at],
    );
  }

  private async applyOutcomes(ref: CallbackRef, summary: OutcomeSummary): Promise<void> {
    const { rows } = await this.outcomePool.query<OutcomeRow>(APPLY_OUTCOMES, [
      ref.partnerId,
      ref.notificationTypeId,
      summary.lastSuccessAt,
      summary.failingSince,
    ]);
    const [row] = rows;
    if (!row) return; // the callback was deleted
    if (row.was_opened && !row.now_opened && summary.lastSuccessAt) {
      this.metrics.callbacksRecovered.inc();
      this.logger.info(
        { partnerId: ref.partnerId, notificationTypeId: ref.notificationTypeId },
        'callback recovered after its circuit had opened',
      );
      await this.operatorEvents.emit('callback.recovered', {
        partnerUniqueId: ref.partnerId,
        notificationTypeId: ref.notificationTypeId,
        callbackUrl: row.callback_url,
        circuitOpenedAt: row.was_opened.toISOString(),
        recoveredAt: summary.lastSuccessAt.toISOString(),
      });
    }
    if (row.enabled && row.failing_since && Date.now() - row.failing_since.getTime() >= this.config.callbackDisableAfterMs)
      await this.disable(ref);
  }

  /** Disables a callback that has failed for CALLBACK_DISABLE_AFTER (once, however many workers try). */
  private async disable(ref: CallbackRef): Promise<void> {
    const outcome = await this.dataSource.transaction(async (manager) => {
      const disabled = (await manager.query(
        `UPDATE callbacks SET enabled = false, disabled_reason = 'failing', disabled_at = now(), updated_at = now()
          WHERE partner_id = $1 AND notification_type_id = $2 AND enabled AND failing_since <= now() - make_interval(secs => $3)
          RETURNING callback_url, failing_since`,
        [ref.partnerId, ref.notificationTypeId, this.config.callbackDisableAfterMs / 1000],
      )) as [Array<{ callback_url: string; failing_since: Date }>, number];
      const [callback] = disabled[0];
      if (!callback) return null;
      const ended = (await manager.query(
        `UPDATE notifications SET status = 'failed', status_reason = 'callback_disabled', next_attempt_at = NULL, updated_at = now()
          WHERE partner_id = $1 AND notification_type_id = $2 AND status = 'pending'
          RETURNING id, delivery_round`,
        [ref.partnerId, ref.notificationTypeId],
      )) as [Array<{ id: string; delivery_round: number }>, number];
      const failed = ended[0];
      const callbackRef = { partnerUniqueId: ref.partnerId, notificationTypeId: ref.notificationTypeId };
      const events = [
        await this.operatorEvents.record(manager, 'callback.disabled', {
          ...callbackRef,
          callbackUrl: callback.callback_url,
          failingSince: callback.failing_since.toISOString(),
          failedNotifications: failed.length,
        }),
      ];
      if (failed.length > 0) {
        const latest = failed[failed.length - 1];
        const [lastAttempt] = (await manager.query(
          `SELECT status_code, error FROM delivery_attempts WHERE notification_id = $1 ORDER BY attempt DESC LIMIT 1`,
          [latest.id],
        )) as Array<{
          status_code: number | null;
          error: string | null;
        }>;
        events.push(
          await this.operatorEvents.exhausted(
            manager,
            {
              ...callbackRef,
              notificationId: latest.id,
              statusReason: 'callback_disabled',
              statusCode: lastAttempt?.status_code ?? null,
              error: lastAttempt?.error ?? null,
            },
            failed.length,
          ),
        );
      }
      return { failed, events, failingSince: callback.failing_since };
    });
    if (!outcome) return;
    this.metrics.callbacksDisabled.inc();
    this.logger.warn(
      {
        partnerId: ref.partnerId,
        notificationTypeId: ref.notificationTypeId,
        failingSince: outcome.failingSince,
        failedNotifications: outcome.failed.length,
      },
      'callback disabled: every attempt failed for CALLBACK_DISABLE_AFTER',
    );
    await this.operatorEvents.enqueue(outcome.events);
    await this.dropJobs(ref, outcome.failed);
  }

  /**
   * The jobs of notifications that just ended failed would only find them failed; removing them
   * spares the queue. A job being run right now cannot be removed: it records nothing, as its
   * notification is no longer pending.
   */
  private async dropJobs(ref: CallbackRef, notifications: Array<{ id: string; delivery_round: number }>): Promise<void> {
    const queue = this.queues.forCallback(ref.partnerId, ref.notificationTypeId);
    for (let start = 0; start < notifications.length; start += JOB_REMOVALS_IN_PARALLEL) {
      await Promise.all(
        notifications
          .slice(start, start + JOB_REMOVALS_IN_PARALLEL)
          .map((row) => queue.remove(deliveryJobId(row.id, row.delivery_round)).catch(() => 0)),
      );
    }
  }
}
