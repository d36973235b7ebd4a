import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { notificationTypeName, type NotificationAcceptedDto } from '@callbacks/contracts';
import { Metrics } from '@callbacks/observability';
import { Batcher, IdempotencyKeyRepository, NotificationRepository } from '@callbacks/persistence';
import type { DeliveryToEnqueue } from '@callbacks/queue';
import { DeliveryScheduler } from './delivery-scheduler';
import { type IncomingNotification, type IntakeOutcome, type IntakeWrite, planIntake, settleIntake } from './intake-plan';

export type { IdempotencyKey, IncomingNotification, IntakeOutcome } from './intake-plan';

/**
 * Group commit: at most this many intake transactions run at once; requests that arrive meanwhile
 * share the next one (one INSERT, one addBulk). Two keep PostgreSQL busy while the next group forms.
 */
const GROUP_COMMITS_IN_FLIGHT = 2;
const MAX_GROUP = 500;

/** Raised inside an all-or-nothing commit to roll it back, carrying what became of each notification. */
class RolledBack {
  constructor(readonly outcomes: IntakeOutcome[]) {}
}

/**
 * Durable intake: notification rows are committed in PostgreSQL before the 202 is sent, and only
 * then handed to the queue. Concurrent requests share one transaction (group commit): one lookup of
 * their partners and callbacks, one of their idempotency keys, one multi-row INSERT, one addBulk.
 * Each request still gets its own answer (a 404 or 422 refuses that request only). Idempotency key
 * rows are written by the same statement as their notifications, so two concurrent requests with
 * one key yield one notification, and the second replays the first.
 */
@Injectable()
export class NotificationIntake {
  private readonly group = new Batcher((items: IncomingNotification[]) => this.commitGroup(items), {
    maxBatch: MAX_GROUP,
    maxInFlight: GROUP_COMMITS_IN_FLIGHT,
  });

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly notifications: NotificationRepository,
    private readonly idempotencyKeys: IdempotencyKeyRepository,
    private readonly scheduler: DeliveryScheduler,
    private readonly metrics: Metrics,
  ) {}

  /** One notification, committed together with whatever other requests arrive at the same time. */
  async accept(incoming: IncomingNotification): Promise<NotificationAcceptedDto> {
    for (let tries = 0; ; tries++) {
      const outcome = await this.group.submit(incoming);
      if (outcome.kind === 'accepted') return outcome.response;
      if (outcome.kind === 'refused' || outcome.kind === 'failed') throw outcome.error;
      // Another request with the same key committed first: the next try replays its response.
      if (tries > 0) throw new Error('the idempotency key conflicted twice in a row');
    }
  }

  /**
   * Many notifications in one transaction, all or none: unless every one is accepted, nothing is
   * stored. Returns what became of each, in order (a refusal says why).
   */
  async acceptAll(items: IncomingNotification[]): Promise<IntakeOutcome[]> {
    for (let tries = 0; ; tries++) {
      const outcomes = await this.commit(items, true);
      if (!outcomes.some((outcome) => outcome.kind === 'conflict')) return outcomes;
      if (tries > 0) throw new Error('an idempotency key conflicted twice in a row');
    }
  }

  /**
   * A group of unrelated requests. When the shared transaction fails (PostgreSQL unreachable, a
   * partner deleted meanwhile), each request is tried alone, so only the ones at fault fail.
   */
  private async commitGroup(items: IncomingNotification[]): Promise<IntakeOutcome[]> {
    try {
      return await this.commit(items, false);
    } catch (error) {
      if (items.length === 1) return [{ kind: 'failed', error }];
      return Promise.all(
        items.map((item) =>
          this.commit([item], false).then(
            ([outcome]) => outcome,
            (itemError: unknown): IntakeOutcome => ({ kind: 'failed', error: itemError }),
          ),
        ),
      );
    }
  }

  private async commit(items: IncomingNotification[], allOrNothing: boolean): Promise<IntakeOutcome[]> {
    let committed: { outcomes: IntakeOutcome[]; writes: IntakeWrite[] };
    try {
      committed = await this.dataSource.transaction(async (manager) => {
        const result = await this.write(manager, items);
        if (allOrNothing && result.outcomes.some((outcome) => outcome.kind !== 'accepted')) throw new RolledBack(result.outcomes);
        return result;
      });
    } catch (error) {
      if (error instanceof RolledBack) return error.outcomes;
      throw error;
    }
    const deliveries: DeliveryToEnqueue[] = [];
    for (const { index, notification } of committed.writes) {
      const incoming = items[index];
      this.metrics.notificationsAccepted.inc({
        type: notificationTypeName(incoming.notificationTypeId),
        status: notification.status,
        source: incoming.test ? 'echo' : 'event',
      });
      if (notification.status === 'pending') {
        deliveries.push({
          notificationId: notification.id,
          partnerId: incoming.partnerId,
          notificationTypeId: incoming.notificationTypeId,
          round: 0,
          test: incoming.test,
        });
      }
    }
    await this.scheduler.scheduleMany(deliveries);
    return committed.outcomes;
  }

  /** Reads what PostgreSQL holds for the items, decides (planIntake), writes, and settles each item's outcome. */
  private async write(
    manager: EntityManager,
    items: IncomingNotification[],
  ): Promise<{ outcomes: IntakeOutcome[]; writes: IntakeWrite[] }> {
    const targets = await this.notifications.intakeTargets(items, manager);
    const storedKeys = await this.idempotencyKeys.find(
      items.flatMap((item) => (item.idempotency ? [item.idempotency] : [])),
      manager,
    );
    const plan = planIntake(items, targets, storedKeys);
    await this.idempotencyKeys.delete(plan.staleKeys, manager);
    const written = await this.notifications.insertAccepted(
      plan.writes.map((write) => write.notification),
      manager,
    );
    const settled = settleIntake(plan, written);
    // Ordered callbacks: each notification takes its place in its case, in acceptance order (the items' order).
    await this.notifications.assignCaseSequences(
      settled.writes
        .filter(({ index, notification }) => targets[index].ordered && notification.status === 'pending' && !notification.test)
        .map(({ notification }) => notification.id),
      manager,
    );
    return settled;
  }
}
