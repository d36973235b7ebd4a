import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { DELIVERY_USER_AGENT, type OperatorEventType } from '@callbacks/contracts';
import { Metrics } from '@callbacks/observability';
import type { OperatorEventJobData } from '@callbacks/queue';
import { signWebhook } from '@callbacks/signing';
import type { DeliveryResult } from '../delivery/deliver-notification.use-case';
import { HttpSender } from '../delivery/http-sender';
import { parseRetryAfter, RetryPolicy } from '../delivery/retry-policy';

/** A job that runs this much before its event is due (a re-enqueued coalescing event) waits again. */
const EARLY_TOLERANCE_MS = 50;

interface EventRow {
  type: OperatorEventType;
  data: Record<string, unknown>;
  count: number;
  attempt_count: number;
  created_at: Date;
}

/**
 * Sends one operator event to OPERATOR_WEBHOOK_URL, signed with OPERATOR_WEBHOOK_SECRET (Standard
 * Webhooks, webhook-id = the event id), and records the attempt. Failed attempts follow
 * RETRY_SCHEDULE like partner deliveries; after the last one the event is failed.
 * A coalescing event stops taking counts when its first attempt starts.
 */
@Injectable()
export class DeliverOperatorEvent {
  private readonly retryPolicy: RetryPolicy;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sender: HttpSender,
    private readonly metrics: Metrics,
    private readonly logger: PinoLogger,
  ) {
    this.retryPolicy = new RetryPolicy(config.retryScheduleMs);
    this.logger.setContext('DeliverOperatorEvent');
  }

  async execute(job: OperatorEventJobData): Promise<DeliveryResult> {
    const id = job.operatorEventId;
    const [peek] = (await this.dataSource.query(`SELECT status, due_at, attempt_count FROM operator_events WHERE id = $1`, [id])) as Array<{
      status: string;
      due_at: Date;
      attempt_count: number;
    }>;
    if (!peek) return { kind: 'nothing_to_do', reason: 'operator_event_deleted' };
    if (peek.status !== 'pending') return { kind: 'nothing_to_do', reason: `already_${peek.status}` };
    const waitMs = peek.due_at.getTime() - Date.now();
    // Waiting for the end of its coalescing window: the job sleeps again (no attempt is made).
    if (waitMs > EARLY_TOLERANCE_MS)
      return { kind: 'retry', attempt: peek.attempt_count, delayMs: waitMs, summary: `coalescing until ${peek.due_at.toISOString()}` };

    const [sealed] = (await this.dataSource.query(
      `UPDATE operator_events SET accumulating = false WHERE id = $1 AND status = 'pending'
       RETURNING type, data, count, attempt_count, created_at`,
      [id],
    )) as [EventRow[], number];
    const [event] = sealed;
    if (!event) return { kind: 'nothing_to_do', reason: 'finished_elsewhere' };
    const attempt = event.attempt_count + 1;
    const webhook = this.config.operatorWebhook;
    if (!webhook) {
      // OPERATOR_WEBHOOK_URL was removed after the event was recorded: nowhere to send it.
      const reason = 'operator_webhook_not_configured';
      await this.dataSource.query(
        `UPDATE operator_events SET status = 'failed', status_reason = $2, updated_at = now() WHERE id = $1 AND status = 'pending'`,
        [id, reason],
      );
      this.metrics.operatorEvents.inc({ type: event.type, outcome: 'failed' });
      return { kind: 'failed', attempt, reason, summary: reason };
    }

    const at = new Date();
    const body = JSON.stringify(this.body(event));
    const timestamp = Math.floor(at.getTime() / 1000);
    const outcome = await this.sender.send({
      url: webhook.url,
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': DELIVERY_USER_AGENT,
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook([webhook.secret], { id, timestamp, body }),
      },
    });
    const attemptRow = { at, url: webhook.url, ...outcome };
    if (outcome.ok) return this.finish(id, event, attempt, attemptRow, { status: 'delivered', reason: null });
    if (outcome.error === 'blocked_address')
      return this.finish(id, event, attempt, attemptRow, { status: 'failed', reason: 'blocked_address' });
    const { delayMs } = this.retryPolicy.next(
      attempt,
      outcome.statusCode === 429 || outcome.statusCode === 503 ? parseRetryAfter(outcome.retryAfter) : null,
    );
    if (delayMs === null) return this.finish(id, event, attempt, attemptRow, { status: 'failed', reason: 'retries_exhausted' });
    return this.finish(id, event, attempt, attemptRow, { status: 'pending', reason: null, delayMs });
  }

  /** The OperatorEventBody (see @callbacks/contracts); a coalesced event carries its count. */
  private body(event: EventRow): { type: OperatorEventType; timestamp: string; data: Record<string, unknown> } {
    const data = event.type === 'notification.exhausted' ? { ...event.data, count: event.count } : event.data;
    return { type: event.type, timestamp: event.created_at.toISOString(), data };
  }

  private async finish(
    id: string,
    event: EventRow,
    attempt: number,
    sent: { at: Date; url: string; statusCode: number | null; durationMs: number; error: string | null; responseBody: string | null },
    next: { status: 'delivered' | 'failed' | 'pending'; reason: string | null; delayMs?: number },
  ): Promise<DeliveryResult> {
    const nextAttemptAt = next.delayMs === undefined ? null : new Date(Date.now() + next.delayMs);
    await this.dataSource.query(
      `WITH attempt AS (
         INSERT INTO operator_event_attempts (event_id, attempt, at, url, status_code, duration_ms, error, response_body)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (event_id, attempt) DO NOTHING
       )
       UPDATE operator_events
          SET attempt_count = $2, last_attempt_at = $3, status = $9, status_reason = $10, next_attempt_at = $11, updated_at = now()
        WHERE id = $1 AND status = 'pending'`,
      [
        id,
        attempt,
        sent.at,
        sent.url,
        sent.statusCode,
        sent.durationMs,
        sent.error,
        sent.responseBody,
        next.status,
        next.reason,
        nextAttemptAt,
      ],
    );
    const outcomeLabel = next.status === 'pending' ? 'retry_scheduled' : next.status;
    this.metrics.operatorEvents.inc({ type: event.type, outcome: outcomeLabel });
    const log = { operatorEventId: id, type: event.type, attempt, statusCode: sent.statusCode, error: sent.error };
    const summary = `operator event attempt ${attempt}: ${sent.statusCode !== null ? `HTTP ${sent.statusCode}` : sent.error}`;
    if (next.status === 'delivered') {
      this.logger.info(log, 'operator event delivered');
      return { kind: 'delivered', attempt };
    }
    this.logger.warn({ ...log, next: next.status }, 'operator event attempt failed');
    if (next.status === 'pending') return { kind: 'retry', attempt, delayMs: next.delayMs ?? 0, summary };
    return { kind: 'failed', attempt, reason: next.reason ?? 'failed', summary };
  }
}
