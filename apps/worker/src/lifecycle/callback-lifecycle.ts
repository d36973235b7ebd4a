import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import type { AttemptErrorKind, CallbackRef } from '@callbacks/contracts';
import { Metrics } from '@callbacks/observability';
import { CallbackOutcomeRepository, CallbackRepository, NotificationRepository } from '@callbacks/persistence';
import { DeliveryQueues, removeDeliveryJobs } from '@callbacks/queue';
import { OperatorEvents } from './operator-events';
import { type OutcomeSummary, OutcomeWindows } from './outcome-window';

/** Each worker writes a callback's outcome state at most this often (plus once at the start of a burst). */
export const OUTCOME_WRITE_INTERVAL_MS = 1_000;

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

/** Why the worker disables a callback: failing for CALLBACK_DISABLE_AFTER, or a 410 answer to one notification. */
type DisableCause = { reason: 'failing' } | { reason: 'gone'; answered: FailedNotification; answeredAt: Date; answeredUrl: string };

/**
 * The callback lifecycle as the worker sees it (see the README's lifecycle section):
 * - bookkeeping of failingSince / lastSuccessAt from attempt outcomes, throttled per callback;
 * - auto-disable: the first outcome write that finds the callback failing for
 *   CALLBACK_DISABLE_AFTER disables it, ends its pending notifications failed (callback_disabled)
 *   and tells the operator (callback.disabled); a 410 answer does the same at once ("gone");
 * - callback.recovered on the first success after the circuit had opened;
 * - notification.exhausted (coalesced) when a notification ends failed.
 * Nothing here may slow or fail a delivery: errors are logged, and the next outcome tries again.
 * Outcome writes commit asynchronously (CallbackOutcomeRepository); disabling, which ends
 * notifications and records operator events, commits synchronously, in one transaction.
 */
@Injectable()
export class CallbackLifecycle implements OnApplicationShutdown {
  private readonly outcomes: OutcomeWindows<CallbackRef>;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outcomeWrites: CallbackOutcomeRepository,
    private readonly callbacks: CallbackRepository,
    private readonly notifications: NotificationRepository,
    private readonly queues: DeliveryQueues,
    private readonly operatorEvents: OperatorEvents,
    private readonly metrics: Metrics,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('CallbackLifecycle');
    this.outcomes = new OutcomeWindows(OUTCOME_WRITE_INTERVAL_MS, (callback, summary) =>
      this.track(this.applyOutcomes(callback, summary), callback, 'recording attempt outcomes'),
    );
  }

  /** After an attempt is recorded (circuit_open attempts included: they count as failures). */
  attemptRecorded(callback: CallbackRef, attempt: RecordedAttempt): void {
    if (attempt.circuit === 'opened')
      this.track(this.callbacks.markCircuitOpened(callback, attempt.at), callback, 'marking the circuit opened');
    this.outcomes.record(`${callback.partnerId}:${callback.notificationTypeId}`, callback, attempt.ok, attempt.at);
  }

  /**
   * The endpoint answered 410 Gone to `answered` (which ended failed, callback_gone): the callback is
   * disabled at once, with the effects and operator events of a disable for failing; unless the
   * partner has changed it since (another URL, or a PUT after the answer): a 410 from the URL it left
   * says nothing of the new one.
   */
  callbackGone(callback: CallbackRef, answered: FailedNotification, answeredAt: Date, answeredUrl: string): Promise<void> {
    return this.track(this.disable(callback, { reason: 'gone', answered, answeredAt, answeredUrl }), callback, 'disabling a gone callback');
  }

  /** A notification ended failed (retries exhausted, blocked address, worker crash…). */
  notificationFailed(callback: CallbackRef, failed: FailedNotification): void {
    this.track(
      this.operatorEvents.exhausted(callback, failed).then((event) => this.operatorEvents.enqueue([event])),
      callback,
      'recording notification.exhausted',
    );
  }

  async onApplicationShutdown(): Promise<void> {
    this.outcomes.flushAll();
    await Promise.allSettled([...this.inFlight]);
    await this.outcomeWrites.close();
  }

  /** Runs `work` to its end before shutdown completes; resolves when it has, logging (never throwing) its failure. */
  private track(work: Promise<unknown>, callback: CallbackRef, what: string): Promise<void> {
    const tracked = work.then(
      () => undefined,
      (error: unknown) =>
        this.logger.warn(
          { err: error, partnerId: callback.partnerId, notificationTypeId: callback.notificationTypeId },
          `callback lifecycle: ${what} failed`,
        ),
    );
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
    return tracked;
  }

  private async applyOutcomes(callback: CallbackRef, summary: OutcomeSummary): Promise<void> {
    const state = await this.outcomeWrites.apply(callback, summary);
    if (!state) return; // the callback was deleted
    if (state.circuitOpenedBefore && !state.circuitOpenedAfter && summary.lastSuccessAt) {
      this.metrics.callbacksRecovered.inc();
      this.logger.info(
        { partnerId: callback.partnerId, notificationTypeId: callback.notificationTypeId },
        'callback recovered after its circuit had opened',
      );
      await this.operatorEvents.emit('callback.recovered', callback, {
        callbackUrl: state.callbackUrl,
        circuitOpenedAt: state.circuitOpenedBefore.toISOString(),
        recoveredAt: summary.lastSuccessAt.toISOString(),
      });
    }
    if (state.enabled && state.failingSince && Date.now() - state.failingSince.getTime() >= this.config.callbackDisableAfterMs)
      await this.disable(callback, { reason: 'failing' });
  }

  /**
   * Disables a callback that has failed for CALLBACK_DISABLE_AFTER, or whose endpoint answered 410
   * (once, however many workers try), in one transaction with the end of its pending notifications
   * and the operator events: callback.disabled, and one notification.exhausted counting every
   * notification that the disable ended (with a 410, the answered one too, which it describes).
   */
  private async disable(callback: CallbackRef, why: DisableCause): Promise<void> {
    const outcome = await this.dataSource.transaction(async (manager) => {
      const disabled =
        why.reason === 'failing'
          ? await this.callbacks.disableFailing(callback, this.config.callbackDisableAfterMs, manager)
          : await this.callbacks.disableGone(callback, why.answeredAt, why.answeredUrl, manager);
      if (!disabled) return null;
      const failed = await this.notifications.failPending(callback, 'callback_disabled', manager);
      const events = [
        await this.operatorEvents.record(
          'callback.disabled',
          callback,
          {
            callbackUrl: disabled.callbackUrl,
            disabledReason: why.reason,
            failingSince: disabled.failingSince.toISOString(),
            failedNotifications: failed.length,
          },
          manager,
        ),
      ];
      const ended = failed.length + (why.reason === 'gone' ? 1 : 0);
      if (ended > 0) {
        let latest: FailedNotification;
        if (why.reason === 'gone') latest = why.answered;
        else {
          const { notificationId } = failed[failed.length - 1];
          const lastAttempt = await this.notifications.lastAttempt(notificationId, manager);
          latest = {
            notificationId,
            statusReason: 'callback_disabled',
            statusCode: lastAttempt?.statusCode ?? null,
            error: lastAttempt?.error ?? null,
          };
        }
        events.push(await this.operatorEvents.exhausted(callback, latest, ended, manager));
      }
      return { failed, events, failingSince: disabled.failingSince };
    });
    if (!outcome) return;
    this.metrics.callbacksDisabled.inc();
    this.logger.warn(
      {
        partnerId: callback.partnerId,
        notificationTypeId: callback.notificationTypeId,
        failingSince: outcome.failingSince,
        failedNotifications: outcome.failed.length,
      },
      why.reason === 'gone'
        ? 'callback disabled: its endpoint answered 410 Gone'
        : 'callback disabled: every attempt failed for CALLBACK_DISABLE_AFTER',
    );
    await this.operatorEvents.enqueue(outcome.events);
    // Their jobs would only find them failed: removing them spares the queue. A job being run right
    // now cannot be removed: it records nothing, as its notification is no longer pending.
    await removeDeliveryJobs(this.queues, outcome.failed);
  }
}
