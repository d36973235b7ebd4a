import { Inject, Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { DELIVERY_USER_AGENT, notificationTypeName, type WebhookEnvelope } from '@callbacks/contracts';
import { Metrics } from '@callbacks/observability';
import type { DeliveryJobData } from '@callbacks/queue';
import { SecretCipher, signWebhook } from '@callbacks/signing';
import { inSpan } from '@callbacks/telemetry';
import { type Admission, type CallbackRef, CallbackGuard } from '../isolation/callback-guard';
import { type DeliveryContext, DeliveryStore, type NotificationUpdate } from './delivery-store';
import { type AttemptOutcome, HttpSender } from './http-sender';
import { parseRetryAfter, RetryPolicy } from './retry-policy';

/** What the processor must do with the job after one run. */
export type DeliveryResult =
  | { kind: 'delivered'; attempt: number }
  | { kind: 'retry'; attempt: number; delayMs: number; summary: string }
  | { kind: 'failed'; attempt: number; reason: string; summary: string }
  | { kind: 'deferred'; delayMs: number; reason: string }
  | { kind: 'nothing_to_do'; reason: string };

const SLOW_DOWN_STATUSES = new Set([429, 503]);

function describe(outcome: AttemptOutcome): string {
  return `${outcome.statusCode !== null ? `HTTP ${outcome.statusCode}` : outcome.error} in ${outcome.durationMs} ms`;
}

/**
 * One delivery attempt: reads the notification and its callback as they are now, signs the
 * envelope (Standard Webhooks), POSTs it and records the attempt. The decision "retry later" or
 * "failed for good" is made here and nowhere else.
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
  ) {
    this.cipher = new SecretCipher(config.secretsEncryptionKey, config.previousSecretsEncryptionKeys);
    this.retryPolicy = new RetryPolicy(config.retryScheduleMs);
    this.logger.setContext('DeliverNotification');
  }

  async execute(job: DeliveryJobData): Promise<DeliveryResult> {
    const callbackRef = { partnerId: job.partnerUniqueId, notificationTypeId: job.notificationTypeId };
    // Ask for a slot while the notification loads: the two round trips overlap.
    const [context, admission] = await Promise.all([this.store.load(job.notificationId), this.guard.admit(callbackRef, job.notificationId)]);
    const lease = { held: admission.admitted };
    try {
      return await this.deliver(job, context, admission, callbackRef, lease);
    } finally {
      // Nothing was sent (nothing to do, or an error before sending): give the slot back at once.
      if (lease.held) await this.guard.release(callbackRef, job.notificationId, null).catch(() => undefined);
    }
  }

  private async deliver(
    job: DeliveryJobData,
    context: DeliveryContext | null,
    admission: Admission,
    callbackRef: CallbackRef,
    lease: { held: boolean },
  ): Promise<DeliveryResult> {
    if (!context) return { kind: 'nothing_to_do', reason: 'notification_deleted' };
    if (job.round !== context.deliveryRound) return { kind: 'nothing_to_do', reason: 'superseded_by_redelivery' };
    if (context.status === 'failed') {
      // Only an operator retrying the failed job in Bull Board runs it again: a new round of the schedule.
      await this.store.reopen(context.notificationId);
      context.roundAttempts = 0;
    } else if (context.status !== 'pending') {
      return { kind: 'nothing_to_do', reason: `already_${context.status}` };
    }
    const { callback } = context;
    if (!callback || !callback.enabled) {
      const reason = callback ? 'callback_disabled' : 'callback_deleted';
      await this.store.skip(context.notificationId, reason);
      this.metrics.deliveries.inc({ type: notificationTypeName(context.notificationTypeId), outcome: 'skipped' });
      this.logger.info({ notificationId: context.notificationId, reason }, 'delivery skipped');
      return { kind: 'nothing_to_do', reason };
    }

    if (!admission.admitted) {
      this.metrics.deliveriesDeferred.inc({ reason: admission.reason });
      return { kind: 'deferred', delayMs: admission.retryInMs, reason: admission.reason };
    }
    const attempt = context.attemptCount + 1;
    const at = new Date();
    const body = JSON.stringify(this.envelope(context));
    const headers = this.headers(context, at, body);
    const outcome = await this.sender.send({ url: callback.url, headers, body });
    lease.held = false;
    const update = this.decide(context, outcome);
    // The lease release and the attempt record are independent: one round trip of waiting, not two.
    const [transition, recorded] = await Promise.all([
      this.guard.release(callbackRef, context.notificationId, outcome.ok),
      this.store.recordAttempt(
        {
          notificationId: context.notificationId,
          attempt,
          at,
          callbackUrl: callback.url,
          statusCode: outcome.statusCode,
          durationMs: outcome.durationMs,
          error: outcome.error,
          responseBody: outcome.responseBody,
        },
        update.next,
      ),
    ]);
    if (transition === 'opened' || transition === 'closed') {
      this.metrics.circuitTransitions.inc({ state: transition });
      this.logger.warn({ notificationId: context.notificationId, partnerId: context.partnerId, notificationTypeId: context.notificationTypeId, circuit: transition }, `circuit ${transition}`);
    }
    const log = { notificationId: context.notificationId, attempt, statusCode: outcome.statusCode, error: outcome.error, durationMs: outcome.durationMs };
    if (!recorded) return { kind: 'nothing_to_do', reason: 'finished_elsewhere' };
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

  private envelope(context: DeliveryContext): WebhookEnvelope {
    return {
      type: notificationTypeName(context.notificationTypeId),
      notificationTypeId: context.notificationTypeId,
      timestamp: context.createdAt.toISOString(),
      partnerUniqueId: context.partnerId,
      test: context.test,
      data: context.payload,
    };
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
      ...callback.headers,
      'content-type': 'application/json',
      'user-agent': DELIVERY_USER_AGENT,
      'webhook-id': context.notificationId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': inSpan('sign webhook', () => signWebhook(secrets, { id: context.notificationId, timestamp, body })),
    };
  }

  private decide(context: DeliveryContext, outcome: AttemptOutcome): { next: NotificationUpdate; result: DeliveryResult } {
    const attempt = context.attemptCount + 1;
    if (outcome.ok) return { next: { status: 'delivered', statusReason: null, nextAttemptAt: null }, result: { kind: 'delivered', attempt } };
    const summary = `attempt ${attempt}: ${describe(outcome)}`;
    const failed = (reason: string) => ({ next: { status: 'failed' as const, statusReason: reason, nextAttemptAt: null }, result: { kind: 'failed' as const, attempt, reason, summary } });
    // A refused address will not become public by waiting: retrying would only knock again.
    if (outcome.error === 'blocked_address') return failed('blocked_address');
    const retryAfterMs = outcome.statusCode !== null && SLOW_DOWN_STATUSES.has(outcome.statusCode) ? parseRetryAfter(outcome.retryAfter) : null;
    const { delayMs } = this.retryPolicy.next(context.roundAttempts + 1, retryAfterMs);
    if (delayMs === null) return failed('retries_exhausted');
    return {
      next: { status: 'pending', statusReason: null, nextAttemptAt: new Date(Date.now() + delayMs) },
      result: { kind: 'retry', attempt, delayMs, summary },
    };
  }
}
