import { Inject, Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { PinoLogger } from 'nestjs-pino';
import type { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, ConfigError, type AppConfig } from '@callbacks/config';
import type { CallbackEventRef, NotificationExhaustedData, OperatorEventDataByType, OperatorEventType } from '@callbacks/contracts';
import { Metrics } from '@callbacks/observability';
import { DELIVERY_QUEUE, enqueueOperatorEvents, type OperatorEventToEnqueue, withTimeout } from '@callbacks/queue';
import { checkCallbackUrl } from '@callbacks/url-policy';

const ENQUEUE_TIMEOUT_MS = 2_000;

type Executor = Pick<EntityManager, 'query'> | Pick<DataSource, 'query'>;

/** The exhausted events of one callback share this key (see OperatorEvents.exhausted). */
function exhaustedKey(ref: CallbackEventRef): string {
  return `exhausted:${ref.partnerUniqueId}:${ref.notificationTypeId}`;
}

/**
 * The outbox of operator events: each is a row in PostgreSQL (committed, with the change it
 * reports when there is one) before its job is added, and the operator-event reconciler re-adds
 * the job if Redis loses it. Without OPERATOR_WEBHOOK_URL nothing is recorded.
 */
@Injectable()
export class OperatorEvents {
  readonly enabled: boolean;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(DELIVERY_QUEUE) private readonly queue: Queue,
    private readonly metrics: Metrics,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('OperatorEvents');
    this.enabled = config.operatorWebhook !== null;
    // The same address policy as partners' callback URLs (and the same check again when sending).
    const problem =
      config.operatorWebhook && checkCallbackUrl(config.operatorWebhook.url, { allowInsecure: config.allowInsecureCallbacks });
    if (problem) throw new ConfigError('OPERATOR_WEBHOOK_URL', problem);
  }

  /** Records one event (in the caller's transaction when `executor` is one); enqueue it after the commit. */
  async record<T extends OperatorEventType>(
    executor: Executor,
    type: T,
    data: OperatorEventDataByType[T],
  ): Promise<OperatorEventToEnqueue | null> {
    if (!this.enabled) return null;
    const id = randomUUID();
    const [row] = (await executor.query(`INSERT INTO operator_events (id, type, data) VALUES ($1, $2, $3) RETURNING due_at`, [
      id,
      type,
      JSON.stringify(data),
    ])) as Array<{ due_at: Date }>;
    this.metrics.operatorEvents.inc({ type, outcome: 'recorded' });
    return { id, type, dueAt: row.due_at };
  }

  /**
   * A notification of the callback ended failed. The first one in a window makes an event that
   * goes at once; later ones are counted into one event that waits for the end of the window
   * (OPERATOR_EXHAUSTED_COALESCE after the previous event), carrying the latest one's details.
   * Returns the event to enqueue, or null when it was counted into a waiting one.
   */
  async exhausted(executor: Executor, data: Omit<NotificationExhaustedData, 'count'>, count = 1): Promise<OperatorEventToEnqueue | null> {
    if (!this.enabled) return null;
    const type = 'notification.exhausted';
    const key = exhaustedKey(data);
    const [row] = (await executor.query(
      `INSERT INTO operator_events (id, type, data, coalesce_key, count, accumulating, due_at)
       SELECT $1, $2, $3, $4::varchar, $5, true,
              GREATEST(now(), (SELECT max(due_at) FROM operator_events WHERE coalesce_key = $4::varchar) + make_interval(secs => $6))
       ON CONFLICT (coalesce_key) WHERE accumulating
       DO UPDATE SET count = operator_events.count + EXCLUDED.count, data = EXCLUDED.data, updated_at = now()
       RETURNING id, due_at, (xmax = 0) AS created`,
      [randomUUID(), type, JSON.stringify(data), key, count, this.config.operatorExhaustedCoalesceMs / 1000],
    )) as Array<{ id: string; due_at: Date; created: boolean }>;
    // "coalesced" counts the failures folded into an event beyond the one that made it.
    if (row.created) this.metrics.operatorEvents.inc({ type, outcome: 'recorded' });
    const folded = row.created ? count - 1 : count;
    if (folded > 0) this.metrics.operatorEvents.inc({ type, outcome: 'coalesced' }, folded);
    return row.created ? { id: row.id, type, dueAt: row.due_at } : null;
  }

  /** Hands committed events to the queue; when Redis does not answer, the reconciler will. */
  async enqueue(events: Array<OperatorEventToEnqueue | null>): Promise<void> {
    const toAdd = events.filter((event): event is OperatorEventToEnqueue => event !== null);
    if (toAdd.length === 0) return;
    await withTimeout(enqueueOperatorEvents(this.queue, toAdd), ENQUEUE_TIMEOUT_MS, 'enqueueing operator events').catch((error: unknown) =>
      this.logger.warn(
        { err: error, operatorEventIds: toAdd.map((event) => event.id) },
        'could not enqueue operator events; the reconciler will',
      ),
    );
  }

  /** Records and enqueues in one go, outside any transaction. */
  async emit<T extends OperatorEventType>(type: T, data: OperatorEventDataByType[T]): Promise<void> {
    await this.enqueue([await this.record(this.dataSource, type, data)]);
  }
}
