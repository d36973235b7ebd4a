import { Inject, Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import type { OperatorEventBody } from '@callbacks/contracts';
import { Metrics } from '@callbacks/observability';
import { type OperatorEventUpdate, OperatorEventRepository, type SealedOperatorEvent } from '@callbacks/persistence';
import type { OperatorEventJobData } from '@callbacks/queue';
import { type AttemptOutcome, describeOutcome } from '../dispatch/attempt-outcome';
import { HttpSender } from '../dispatch/http-sender';
import { nextStep } from '../dispatch/next-step';
import { RetryPolicy } from '../dispatch/retry-policy';
import { webhookHeaders } from '../dispatch/webhook-headers';
import type { DeliveryResult } from '../delivery/delivery-decision';

/** A job that runs this much before its event is due (a re-enqueued coalescing event) waits again. */
const EARLY_TOLERANCE_MS = 50;

/** The OperatorEventBody (see @callbacks/contracts); a coalesced event carries its count. */
function operatorEventBody(event: SealedOperatorEvent): Pick<OperatorEventBody, 'type' | 'timestamp'> & { data: Record<string, unknown> } {
  const data = event.type === 'notification.exhausted' ? { ...event.data, count: event.count } : event.data;
  return { type: event.type, timestamp: event.createdAt.toISOString(), data };
}

/**
 * Sends one operator event to OPERATOR_WEBHOOK_URL, signed with OPERATOR_WEBHOOK_SECRET (Standard
 * Webhooks, webhook-id = the event id), and records the attempt. Failed attempts follow
 * RETRY_SCHEDULE like partner deliveries (the same outcome rule); after the last one the event is
 * failed. A coalescing event stops taking counts when its first attempt starts.
 */
@Injectable()
export class DeliverOperatorEvent {
  private readonly retryPolicy: RetryPolicy;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly events: OperatorEventRepository,
    private readonly sender: HttpSender,
    private readonly metrics: Metrics,
    private readonly logger: PinoLogger,
  ) {
    this.retryPolicy = new RetryPolicy(config.retryScheduleMs);
    this.logger.setContext('DeliverOperatorEvent');
  }

  async execute(job: OperatorEventJobData): Promise<DeliveryResult> {
    const id = job.operatorEventId;
    const peek = await this.events.peek(id);
    if (!peek) return { kind: 'nothing_to_do', reason: 'operator_event_deleted' };
    if (peek.status !== 'pending') return { kind: 'nothing_to_do', reason: `already_${peek.status}` };
    const waitMs = peek.dueAt.getTime() - Date.now();
    // Waiting for the end of its coalescing window: the job sleeps again (no attempt is made).
    if (waitMs > EARLY_TOLERANCE_MS)
      return { kind: 'retry', attempt: peek.attemptCount, delayMs: waitMs, summary: `coalescing until ${peek.dueAt.toISOString()}` };

    const event = await this.events.seal(id);
    if (!event) return { kind: 'nothing_to_do', reason: 'finished_elsewhere' };
    const attempt = event.attemptCount + 1;
    const webhook = this.config.operatorWebhook;
    if (!webhook) {
      // OPERATOR_WEBHOOK_URL was removed after the event was recorded: nowhere to send it.
      const reason = 'operator_webhook_not_configured';
      await this.events.fail(id, reason);
      this.metrics.operatorEvents.inc({ type: event.type, outcome: 'failed' });
      return { kind: 'failed', attempt, reason, summary: reason };
    }

    const at = new Date();
    const body = JSON.stringify(operatorEventBody(event));
    const outcome = await this.sender.send({
      url: webhook.url,
      body,
      headers: webhookHeaders({ id, at, body, secrets: [webhook.secret] }),
    });
    const step = nextStep(outcome, attempt, this.retryPolicy);
    const next: OperatorEventUpdate =
      step.kind === 'delivered'
        ? { status: 'delivered', statusReason: null, nextAttemptAt: null }
        : step.kind === 'fail'
          ? { status: 'failed', statusReason: step.reason, nextAttemptAt: null }
          : { status: 'pending', statusReason: null, nextAttemptAt: new Date(Date.now() + step.delayMs) };
    await this.events.recordAttempt(id, { attempt, at, url: webhook.url, ...outcome }, next);
    return this.finish(id, event, attempt, outcome, next, step.kind === 'retry' ? step.delayMs : 0);
  }

  private finish(
    id: string,
    event: SealedOperatorEvent,
    attempt: number,
    outcome: AttemptOutcome,
    next: OperatorEventUpdate,
    delayMs: number,
  ): DeliveryResult {
    const outcomeLabel = next.status === 'pending' ? 'retry_scheduled' : next.status;
    this.metrics.operatorEvents.inc({ type: event.type, outcome: outcomeLabel });
    const log = { operatorEventId: id, type: event.type, attempt, statusCode: outcome.statusCode, error: outcome.error };
    if (next.status === 'delivered') {
      this.logger.info(log, 'operator event delivered');
      return { kind: 'delivered', attempt };
    }
    this.logger.warn({ ...log, next: next.status }, 'operator event attempt failed');
    const summary = `operator event attempt ${attempt}: ${describeOutcome(outcome)}`;
    if (next.status === 'pending') return { kind: 'retry', attempt, delayMs, summary };
    return { kind: 'failed', attempt, reason: next.statusReason ?? 'failed', summary };
  }
}
