import { Inject, Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { type CallbackRef, disabledSkipReason, notificationTypeName, serializeEnvelope } from '@callbacks/contracts';
import { Metrics } from '@callbacks/observability';
import { type DeliveryContext, DeliveryRepository } from '@callbacks/persistence';
import { openCallbackHeaders, SecretCipher } from '@callbacks/signing';
import type { AttemptOutcome } from '../dispatch/attempt-outcome';
import { HttpSender } from '../dispatch/http-sender';
import { RetryPolicy } from '../dispatch/retry-policy';
import { signingKeys, webhookHeaders } from '../dispatch/webhook-headers';
import { CallbackGuard } from '../isolation/callback-guard';
import { ParkedDeliveries } from '../isolation/parked-deliveries';
import { CallbackLifecycle } from '../lifecycle/callback-lifecycle';
import { CallbackTransport } from '../transport/callback-transport';
import { decideDelivery, type DeliveryResult } from './delivery-decision';

/** The job as the processor hands it over, in the code's names (the job data's wire names stay in the processor). */
export interface DeliveryJob {
  id: string;
  notificationId: string;
  /** The delivery round the job belongs to: each redelivery starts a new one, older jobs are stale. */
  round: number;
  callback: CallbackRef;
  /** Finished runs of this job; above 0 on a job retried after it failed (Bull Board). */
  attemptsMade: number;
}

/**
 * How long a parked delivery sleeps if no slot is ever handed to it (a lost wake: a worker died
 * between taking a slot and waking the next, or Redis lost the waiting list). Wakes are the rule.
 */
export const PARK_TIMEOUT_MS = 5 * 60_000;

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

/**
 * One delivery attempt: asks the callback's guard for a slot, reads the notification and its
 * callback as they are now, signs the envelope (Standard Webhooks), POSTs it and records the
 * attempt. The decision "retry later" or "failed for good" is made here (decideDelivery) and nowhere else.
 */
@Injectable()
export class DeliverNotification {
  private readonly cipher: SecretCipher;
  private readonly retryPolicy: RetryPolicy;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly deliveries: DeliveryRepository,
    private readonly sender: HttpSender,
    private readonly logger: PinoLogger,
    private readonly metrics: Metrics,
    private readonly guard: CallbackGuard,
    private readonly parked: ParkedDeliveries,
    private readonly lifecycle: CallbackLifecycle,
    private readonly transport: CallbackTransport,
  ) {
    this.cipher = new SecretCipher(config.secretsEncryptionKey, config.previousSecretsEncryptionKeys);
    this.retryPolicy = new RetryPolicy(config.retryScheduleMs);
    this.logger.setContext('DeliverNotification');
  }

  async execute(job: DeliveryJob): Promise<DeliveryResult> {
    const { callback } = job;
    // The slot first: a delivery held back costs neither a payload load nor a send.
    const admission = await this.guard.admit(callback, job.id, PARK_TIMEOUT_MS * 2);
    if (!admission.admitted) {
      this.metrics.deliveriesDeferred.inc({ reason: admission.reason });
      this.parked.wake(callback, admission.handedTo);
      if (admission.reason === 'in_flight_cap') {
        await this.deliveries.park(job.notificationId, new Date(Date.now() + PARK_TIMEOUT_MS));
        return { kind: 'parked', delayMs: PARK_TIMEOUT_MS };
      }
    }
    const lease = { held: admission.admitted };
    try {
      const context = await this.deliveries.load(job.notificationId, admission.admitted);
      return await this.deliver(job, context, admission.admitted, lease);
    } finally {
      // Nothing was sent (nothing to do, or an error before sending): the slot goes on at once.
      if (lease.held) {
        const released = await this.guard.release(callback, job.id, null).catch(() => null);
        this.parked.wake(callback, released?.handedTo ?? null);
      }
    }
  }

  private async deliver(
    job: DeliveryJob,
    context: DeliveryContext | null,
    admitted: boolean,
    lease: { held: boolean },
  ): Promise<DeliveryResult> {
    if (!context) return { kind: 'nothing_to_do', reason: 'notification_deleted' };
    if (job.round !== context.deliveryRound) return { kind: 'nothing_to_do', reason: 'superseded_by_redelivery' };
    if (context.status === 'failed' && job.attemptsMade > (context.failedJobAttempts ?? 0)) {
      // The job failed after the failure was recorded, and someone retried it (an operator in Bull
      // Board): a new round of the schedule. Any other run that finds it failed (a stale duplicate,
      // a stall after the failure was recorded) leaves it failed.
      await this.deliveries.reopen(context.notificationId);
      context.roundAttempts = 0;
    } else if (context.status !== 'pending') {
      return { kind: 'nothing_to_do', reason: `already_${context.status}` };
    }
    const registration = context.callback;
    if (!registration || !registration.enabled) {
      const reason = registration ? disabledSkipReason(registration.disabledReason) : 'callback_deleted';
      await this.deliveries.skip(context.notificationId, job.round, reason);
      this.metrics.deliveries.inc({ type: notificationTypeName(context.notificationTypeId), outcome: 'skipped' });
      this.logger.info({ notificationId: context.notificationId, reason }, 'delivery skipped');
      return { kind: 'nothing_to_do', reason };
    }

    const at = new Date();
    let outcome = CIRCUIT_OPEN_OUTCOME;
    if (admitted) {
      const body = this.envelope(context);
      const headers = webhookHeaders({
        id: context.notificationId,
        at,
        body,
        keys: signingKeys(registration, at, (sealed) => this.cipher.decrypt(sealed)),
        customHeaders: openCallbackHeaders(this.cipher, registration),
      });
      const { caCertificate, auth } = await this.transport.settings(job.callback, registration, this.cipher);
      outcome = await this.sender.send({ url: registration.url, headers, body, caCertificate, auth });
      lease.held = false;
    }
    // Our proxy's failure is not the partner's: it neither counts toward the circuit nor starts a failure streak.
    const partnersOutcome = outcome.error === 'proxy_error' ? null : outcome.ok;
    const update = decideDelivery(context, outcome, this.retryPolicy, Date.now());
    // The lease release and the attempt record are independent: one round trip of waiting, not two.
    // A release that fails leaves the lease to expire; it must not fail a recorded attempt's job, and
    // a record that fails must not lose the wake of the parked job the slot was handed to.
    const releasing = admitted ? this.guard.release(job.callback, job.id, partnersOutcome).catch(() => null) : Promise.resolve(null);
    const recording = this.deliveries.recordAttempt(
      {
        notificationId: context.notificationId,
        round: job.round,
        jobAttempts: job.attemptsMade,
        at,
        callbackUrl: registration.url,
        statusCode: outcome.statusCode,
        durationMs: outcome.durationMs,
        error: outcome.error,
        errorDetail: outcome.errorDetail,
        responseBody: outcome.responseBody,
      },
      update.next,
    );
    recording.catch(() => undefined); // awaited below, after the wake
    const released = await releasing;
    if (released) {
      this.parked.wake(job.callback, released.handedTo);
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
    if (partnersOutcome !== null)
      this.lifecycle.attemptRecorded(job.callback, {
        ok: outcome.ok,
        at,
        statusCode: outcome.statusCode,
        error: outcome.error,
        circuit: released?.transition,
      });
    if (update.result.kind === 'failed')
      this.lifecycle.notificationFailed(job.callback, {
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

  /** The envelope, the edge where the partner is spelled partnerUniqueId. */
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
}
