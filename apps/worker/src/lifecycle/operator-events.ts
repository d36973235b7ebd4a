import { Inject, Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, ConfigError, type AppConfig } from '@callbacks/config';
import {
  type CallbackRef,
  type NotificationExhaustedData,
  operatorEventCallback,
  type OperatorEventCallback,
  type OperatorEventDataByType,
  type OperatorEventType,
} from '@callbacks/contracts';
import { Metrics } from '@callbacks/observability';
import { OperatorEventRepository, type SqlExecutor } from '@callbacks/persistence';
import { DELIVERY_QUEUE, enqueueOperatorEvents, type OperatorEventToEnqueue, withTimeout } from '@callbacks/queue';
import { checkCallbackUrl } from '@callbacks/url-policy';

const ENQUEUE_TIMEOUT_MS = 2_000;

/** An event's data without the callback it is about (which the event names in the wire's spelling). */
type EventDetails<T extends OperatorEventType> = Omit<OperatorEventDataByType[T], keyof OperatorEventCallback>;

/** The exhausted events of one callback share this key (see OperatorEvents.exhausted). */
function exhaustedKey(callback: CallbackRef): string {
  return `exhausted:${callback.partnerId}:${callback.notificationTypeId}`;
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
    private readonly events: OperatorEventRepository,
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

  /** Records one event about `callback` (in the caller's transaction when `db` is one); enqueue it after the commit. */
  async record<T extends OperatorEventType>(
    type: T,
    callback: CallbackRef,
    details: EventDetails<T>,
    db?: SqlExecutor,
  ): Promise<OperatorEventToEnqueue | null> {
    if (!this.enabled) return null;
    const id = randomUUID();
    const dueAt = await this.events.insert(id, type, { ...operatorEventCallback(callback), ...details }, db);
    this.metrics.operatorEvents.inc({ type, outcome: 'recorded' });
    return { id, type, dueAt };
  }

  /**
   * A notification of the callback ended failed. The first one in a window makes an event that
   * goes at once; later ones are counted into one event that waits for the end of the window
   * (OPERATOR_EXHAUSTED_COALESCE after the previous event), carrying the latest one's details.
   * Returns the event to enqueue, or null when it was counted into a waiting one.
   */
  async exhausted(
    callback: CallbackRef,
    details: Omit<EventDetails<'notification.exhausted'>, 'count'>,
    count = 1,
    db?: SqlExecutor,
  ): Promise<OperatorEventToEnqueue | null> {
    if (!this.enabled) return null;
    const type = 'notification.exhausted';
    const data: Omit<NotificationExhaustedData, 'count'> = { ...operatorEventCallback(callback), ...details };
    const event = await this.events.accumulate(
      randomUUID(),
      type,
      data,
      exhaustedKey(callback),
      count,
      this.config.operatorExhaustedCoalesceMs,
      db,
    );
    // "coalesced" counts the failures folded into an event beyond the one that made it.
    if (event.created) this.metrics.operatorEvents.inc({ type, outcome: 'recorded' });
    const folded = event.created ? count - 1 : count;
    if (folded > 0) this.metrics.operatorEvents.inc({ type, outcome: 'coalesced' }, folded);
    return event.created ? { id: event.id, type, dueAt: event.dueAt } : null;
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
  async emit<T extends OperatorEventType>(type: T, callback: CallbackRef, details: EventDetails<T>): Promise<void> {
    await this.enqueue([await this.record(type, callback, details)]);
  }
}
