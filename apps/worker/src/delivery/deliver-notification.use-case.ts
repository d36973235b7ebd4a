import { Inject, Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { DELIVERY_USER_AGENT, notificationTypeName, serializeEnvelope } from '@callbacks/contracts';
import { Metrics } from '@callbacks/observability';
import type { DeliveryJobData } from '@callbacks/queue';
import { openCallbackHeaders, SecretCipher, signWebhook } from '@callbacks/signing';
import { inSpan } from '@callbacks/telemetry';
import { type CallbackRef, CallbackGuard } from '../isolation/callback-guard';
import { ParkedDeliveries } from '../isolation/parked-deliveries';
import { CallbackLifecycle } from '../lifecycle/callback-lifecycle';
import { type DeliveryContext, DeliveryStore, type NotificationUpdate } from './delivery-store';
import { type AttemptOutcome, HttpSender } from './http-sender';
import { parseRetryAfter, RetryPolicy } from './retry-policy';

/** What the processor must do with the job after one run. */
export type DeliveryResult =
  | { kind: 'delivered'; attempt: number }
  | { kind: 'retry'; attempt: number; delayMs: number; summary: string }
  | { kind: 'failed'; attempt: number; reason: string; summary: string }
  | { kind: 'parked'; delayMs: number }
  | { kind: 'nothing_to_do'; reason: string };

/** The job as the processor hands it over. */
export interface DeliveryJob {
  id: string;
  data: DeliveryJobData;
  /** Finished runs of this job; above 0 on a job retried after it failed (Bull Board). */
  attemptsMade: number;
}

/**
 * How long a parked delivery sleeps if no slot is ever handed to it (a lost wake: a worker died
 * between taking a slot and waking the next, or Redis lost the waiting list). Wakes are the rule.
 */
export const PARK_TIMEOUT_MS = 5 * 60_000;

const SLOW_DOWN_STATUSES = new Set([429, 503]);

/** What an attempt that falls due while the circuit is open records: nothing was sent. */
const CIRCUIT_OPEN_OUTCOME: AttemptOutcome = {
  ok: false,
  statusCode: null,
  error: 'circuit_open',
  errorDetail: null,
  durationMs: 0,
  responseBody: null,
  retryAfter: undefined,
};

function describe(outcome: AttemptOutcome): string {
  return `${outcome.statusCode !== null ? `HTTP ${outcome.statusCode}` : outcome.error} in ${outcome.durationMs} ms`;
}

/**
 * One delivery attempt: asks the callback's guard for a slot, reads the notification and its
 * callback as they are now, signs the envelope (Standard Webhooks), POSTs it and records the
 * attempt. The decision "retry later" or "failed for good" is made here and nowhere else.
 */
@Injectable()
export class DeliverNotification {
  private readonly cipher: SecretCipher;
  private readonly retryPolicy: RetryPolicy;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly store: DeliveryStore,
    private readonly sender: HttpSender,
    private readonly logger: PinoLogger,
    private readonly metrics: Metrics,
    private readonly guard: CallbackGuard,
    private readonly parked: ParkedDeliveries,
    private readonly lifecycle: CallbackLifecycle,
  ) {
    this.cipher = new SecretCipher(config.secretsEncryptionKey, config.previousSecretsEncryptionKeys);
    this.retryPolicy = new RetryPolicy(config.retryScheduleMs);
    this.logger.setContext('DeliverNotification');
  }

  async execute(job: DeliveryJob): Promise<DeliveryResult> {
    const callbackRef = { partnerId: job.data.partnerUniqueId, notificationTypeId: job.data.notificationTypeId };
    // The slot first: a delivery held back costs neither a payload load nor a send.
    const admission = await this.guard.admit(callbackRef, job.id, PARK_TIMEOUT_MS * 2);
    if (!admission.admitted) {
      this.metrics.deliveriesDeferred.inc({ reason: admission.reason });
      this.parked.wake(callbackRef, admission.handedTo);
      if (admission.reason === 'in_flight_cap') {
        await this.store.park(job.data.notificationId, new Date(Date.now() + PARK_TIMEOUT_MS));
        return { kind: 'parked', delayMs: PARK_TIMEOUT_MS };
      }
    }
    const lease = { held: admission.admitted };
    try {
      const context = await this.store.load(job.data.notificationId, admission.admitted);
      return await this.deliver(job, context, admission.admitted, callbackRef, lease);
    } finally {
      // Nothing was sent (nothing to do, or an error before sending): the slot goes on at once.
      if (lease.held) {
        const released = await this.guard.release(callbackRef, job.id, null).catch(() => null);
        this.parked.wake(callbackRef, released?.handedTo ?? null);
      }
    }
  }

  private async deliver(
    job: DeliveryJob,
    context: DeliveryContext | null,
    admitted: boolean,
    callbackRef: CallbackRef,
    lease: { held: boolean },
  ): Promise<DeliveryResult> {
    if (!context) return { kind: 'nothing_to_do', reason: 'notification_deleted' };
    if (job.data.round !== context.deliveryRound) return { kind: 'nothing_to_do', reason: 'superseded_by_redelivery' };
    if (context.status === 'failed' && job.attemptsMade > (context.failedJobAttempts ?? 0)) {
      // The job failed after the failure was recorded, and someone retried it (an operator in Bull
      // Board): a new round of the schedule. Any other run that finds it failed (a stale duplicate,
      // a stall after the failure was recorded) leaves it failed.
      await this.store.reopen(context.notificationId);
      context.roundAttempts = 0;
    } else if (context.status !== 'pending') {
      return { kind: 'nothing_to_do', reason: `already_${context.status}` };
    }
    const { callback } = context;
    if (!callback || !callback.enabled) {
      const reason = callback ? 'callback_disabled' : 'callback_deleted';
      await this.store.skip(context.notificationId, job.data.round, reason);
      this.metrics.deliveries.inc({ type: notificationTypeName(context.notificationTypeId), outcome: 'skipped' });
      this.logger.info({ notificationId: context.notificationId, reason }, 'delivery skipped');
      return { kind: 'nothing_to_do', reason };
    }

    const at = new Date();
    let outcome = CIRCUIT_OPEN_OUTCOME;
    if (admitted) {
      const body = this.envelope(context);
      outcome = await this.sender.send({ url: callback.url, headers: this.headers(context, at, body), body });
      lease.held = false;
    }
    const update = this.decide(context, outcome);
    // The lease release and the attempt record are independent: one round trip of waiting, not two.
    // A release that fails leaves the lease to expire; it must not fail a recorded attempt's job, and
    // a record that fails must not lose the wake of the parked job the slot was handed to.
    const releasing = admitted ? this.guard.release(callbackRef, job.id, outcome.ok).catch(() => null) : Promise.resolve(null);
    const recording = this.store.recordAttempt(
      {
        notificationId: context.notificationId,
        round: job.data.round,
        jobAttempts: job.attemptsMade,
        at,
        callbackUrl: callback.url,
        statusCode: outcome.statusCode,
        durationMs: outcome.durationMs,
        error: outcome.error,
        responseBody: outcome.responseBody,
      },
      update.next,
    );
    recording.catch(() => undefined); // awaited below, after the wake
    const released = await releasing;
    if (released) {
      this.parked.wake(callbackRef, released.handedTo);
      if (released.transition === 'opened' || released.transition === 'closed') {
        this.metrics.circuitTransitions.inc({ state: released.transition });
        this.logger.warn(
          {
            notificationId: context.notificationId,
            partnerId: context.partnerId,
            notificationTypeId: context.notificationTypeId,
            circuit: released.transition,
          },
          `circuit ${released.transition}`,
        );
      }
    }
    const applied = await recording;
    const log = {
      notificationId: context.notificationId,
      attempt: update.result.attempt,
      statusCode: outcome.statusCode,
      error: outcome.error,
      durationMs: outcome.durationMs,
    };
    if (!applied) {
      this.logger.info(log, 'attempt logged; the notification had moved on (a newer round, or finished elsewhere)');
      return { kind: 'nothing_to_do', reason: 'finished_elsewhere' };
    }
    this.lifecycle.attemptRecorded(callbackRef, {
      ok: outcome.ok,
      at,
      statusCode: outcome.statusCode,
      error: outcome.error,
      circuit: released?.transition,
    });
    if (update.result.kind === 'failed')
      this.lifecycle.notificationFailed(callbackRef, {
        notificationId: context.notificationId,
        statusReason: update.result.reason,
        statusCode: outcome.statusCode,
        error: outcome.error,
      });
    this.observe(context, outcome, update.result);
    if (update.result.kind === 'delivered') this.logger.info(log, 'delivered');
    else this.logger.warn({ ...log, next: update.result.kind }, 'delivery attempt failed');
    return update.result;
  }

  private observe(context: DeliveryContext, outcome: AttemptOutcome, result: DeliveryResult): void {
    const type = notificationTypeName(context.notificationTypeId);
    const httpClass = outcome.statusCode === null ? null : `${Math.floor(outcome.statusCode / 100)}xx`;
    this.metrics.attemptDuration.observe({ type, result: httpClass ?? outcome.error ?? 'unknown' }, outcome.durationMs / 1000);
    const outcomeLabel = result.kind === 'retry' ? 'retry_scheduled' : result.kind;
    this.metrics.deliveries.inc({ type, outcome: outcomeLabel });
    if (result.kind === 'retry') this.metrics.retriesScheduled.inc({ type });
    if (result.kind === 'delivered') this.metrics.deliveryLatency.observe({ type }, (Date.now() - context.createdAt.getTime()) / 1000);
  }

  private envelope(context: DeliveryContext): string {
    const head = {
      type: notificationTypeName(context.notificationTypeId),
      notificationTypeId: context.notificationTypeId,
      timestamp: context.createdAt.toISOString(),
      partnerUniqueId: context.partnerId,
      test: context.test,
    };
    return serializeEnvelope(head, context.payloadText);
  }

  /** The callback's own headers first, so ours always win (they cannot be registered anyway). */
  private headers(context: DeliveryContext, at: Date, body: string): Record<string, string> {
    const callback = context.callback!;
    const secrets = [this.cipher.decrypt(callback.signingSecretEncrypted)];
    if (callback.previousSigningSecretEncrypted && callback.previousSecretExpiresAt && callback.previousSecretExpiresAt > at) {
      secrets.push(this.cipher.decrypt(callback.previousSigningSecretEncrypted));
    }
    const timestamp = Math.floor(at.getTime() / 1000);
    return {
      ...openCallbackHeaders(this.cipher, callback),
      'content-type': 'application/json',
      'user-agent': DELIVERY_USER_AGENT,
      'webhook-id': context.notificationId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': inSpan('sign webhook', () => signWebhook(secrets, { id: context.notificationId, timestamp, body })),
    };
  }

  private decide(
    context: DeliveryContext,
    outcome: AttemptOutcome,
  ): { next: NotificationUpdate; result: Extract<DeliveryResult, { kind: 'delivered' | 'retry' | 'failed' }> } {
    const attempt = context.attemptCount + 1;
    if (outcome.ok)
      return { next: { status: 'delivered', statusReason: null, nextAttemptAt: null }, result: { kind: 'delivered', attempt } };
    const summary = `attempt ${attempt}: ${describe(outcome)}`;
    const failed = (reason: string) => ({
      next: { status: 'failed' as const, statusReason: reason, nextAttemptAt: null },
      result: { kind: 'failed' as const, attempt, reason, summary },
    });
    // A refused address will not become public by waiting: retrying would only knock again.
    if (outcome.error === 'blocked_address') return failed('blocked_address');
    const retryAfterMs =
      outcome.statusCode !== null && SLOW_DOWN_STATUSES.has(outcome.statusCode) ? parseRetryAfter(outcome.retryAfter) : null;
    const { delayMs } = this.retryPolicy.next(context.roundAttempts + 1, retryAfterMs);
    if (delayMs === null) return failed('retries_exhausted');
    return {
      next: { status: 'pending', statusReason: null, nextAttemptAt: new Date(Date.now() + delayMs) },
      result: { kind: 'retry', attempt, delayMs, summary },
    };
  }
}
