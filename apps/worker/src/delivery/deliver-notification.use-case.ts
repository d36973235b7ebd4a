import { Inject, Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { type CallbackRef, type DeliveryLimits, disabledSkipReason, notificationTypeName, serializeEnvelope } from '@callbacks/contracts';
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
import { CaseOrder } from '../ordering/case-order';
import { CallbackTransport } from '../transport/callback-transport';
import { DeliveryPolicies } from './delivery-policies';
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
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly deliveries: DeliveryRepository,
    private readonly sender: HttpSender,
    private readonly logger: PinoLogger,
    private readonly metrics: Metrics,
    private readonly guard: CallbackGuard,
    private readonly parked: ParkedDeliveries,
    private readonly lifecycle: CallbackLifecycle,
    private readonly transport: CallbackTransport,
    private readonly policies: DeliveryPolicies,
    private readonly caseOrder: CaseOrder,
  ) {
    this.cipher = new SecretCipher(config.secretsEncryptionKey, config.previousSecretsEncryptionKeys);
    this.retryPolicy = new RetryPolicy(config.retryScheduleMs);
    this.logger.setContext('DeliverNotification');
  }

  async execute(job: DeliveryJob): Promise<DeliveryResult> {
    const { callback } = job;
    const limits = await this.policies.of(callback);
    // Case ordering holds a first-round delivery behind the previous one of its case; later rounds are out of band.
    if (limits.ordering === 'case' && job.round === 0) {
      const hold = await this.caseOrder.holdFor(job.notificationId);
      if (hold) {
        this.metrics.deliveriesDeferred.inc({ reason: 'case_order' });
        // Whatever it holds in the guard (a handed slot, a place in the waiting list) goes on: its
        // predecessor may be waiting for exactly that slot.
        const released = await this.guard.release(callback, job.id, null, limits);
        this.parked.wake(callback, released.handedTo, limits);
        return { kind: 'held', ...hold };
      }
    }
    // The slot first: a delivery held back costs neither a payload load nor a send.
    const admission = await this.guard.admit(callback, job.id, limits);
    if (!admission.admitted) {
      this.metrics.deliveriesDeferred.inc({ reason: admission.reason });
      this.parked.wake(callback, admission.handedTo, limits);
      if (admission.reason === 'in_flight_cap') {
        await this.deliveries.park(job.notificationId, job.round);
        // It sleeps until a slot is handed to it; the timeout is a last resort, jittered so a parked backlog never wakes at once.
        return { kind: 'parked', delayMs: Math.round(this.config.parkTimeoutMs * (0.9 + 0.2 * Math.random())), limits, settle: true };
      }
      if (admission.reason === 'rate_limited') {
        // First in line: its slot is reserved from when the rate allows; only this job has a timed wake.
        await this.deliveries.park(job.notificationId, job.round);
        return { kind: 'parked', delayMs: admission.waitMs, limits, settle: false };
      }
    }
    const lease = { held: admission.admitted };
    try {
      const context = await this.deliveries.load(job.notificationId, admission.admitted);
      return await this.deliver(job, context, admission.admitted, lease, limits);
    } finally {
      // Nothing was sent (nothing to do, or an error before sending): the slot goes on at once.
      if (lease.held) {
        const released = await this.guard.release(callback, job.id, null, limits).catch(() => null);
        this.parked.wake(callback, released?.handedTo ?? null, limits);
      }
    }
  }

  private async deliver(
    job: DeliveryJob,
    context: DeliveryContext | null,
    admitted: boolean,
    lease: { held: boolean },
    limits: DeliveryLimits,
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
      if (context.caseSequence !== null) this.caseOrder.wakeBehind(context.notificationId);
      this.metrics.deliveries.inc({ type: notificationTypeName(context.notificationTypeId), outcome: 'skipped' });
      this.logger.info({ notificationId: context.notificationId, reason }, 'delivery skipped');
      return { kind: 'nothing_to_do', reason };
    }

    // The callback's rate is taken here, when the attempt is about to go (a wait of at most about a
    // second); the attempt starts at the time its start was logged under.
    const at = new Date(admitted ? await this.guard.startAttempt(job.callback, job.id, limits) : Date.now());
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
      const { timeoutMs } = this.policies.resolve(registration.delivery);
      outcome = await this.sender.send({ url: registration.url, headers, body, caCertificate, auth, timeoutMs });
      lease.held = false;
    }
    // Our proxy's failure is not the partner's: it neither counts toward the circuit nor starts a failure streak.
    const partnersOutcome = outcome.error === 'proxy_error' ? null : outcome.ok;
    const update = decideDelivery(context, outcome, this.retryPolicy, Date.now());
    const failed =
      update.result.kind === 'failed'
        ? {
            notificationId: context.notificationId,
            statusReason: update.result.reason,
            statusCode: outcome.statusCode,
            error: outcome.error,
          }
        : null;
    const gone = failed?.statusReason === 'callback_gone';
    // The lease release and the attempt record are independent: one round trip of waiting, not two.
    // A release that fails leaves the lease to expire; it must not fail a recorded attempt's job, and
    // a record that fails must not lose the wake of the parked job the slot was handed to.
    const release = () => this.guard.release(job.callback, job.id, partnersOutcome, limits).catch(() => null);
    let releasing = admitted && !gone ? release() : Promise.resolve(null);
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
    // Except after a 410: the callback is disabled before its slot goes on, so the parked delivery the
    // slot is handed to finds its notification ended instead of sending it (a disable that fails is
    // logged, and the next 410 tries again).
    if (failed && gone)
      releasing = recording
        .then((applied) => (applied ? this.lifecycle.callbackGone(job.callback, failed, at, registration.url) : undefined))
        .catch(() => undefined)
        .then(() => (admitted ? release() : null));
    const released = await releasing;
    if (released) {
      this.parked.wake(job.callback, released.handedTo, limits);
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
    if (context.caseSequence !== null && update.result.kind !== 'retry') this.caseOrder.wakeBehind(context.notificationId);
    if (failed && !gone) this.lifecycle.notificationFailed(job.callback, failed);
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
      ...(context.caseSequence === null ? {} : { sequence: context.caseSequence }),
    };
    return serializeEnvelope(head, context.payloadText);
  }
}
