import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { notificationTypeName, type NotificationAcceptedDto } from '@callbacks/contracts';
import { Metrics } from '@callbacks/observability';
import { Batcher, Budget, BudgetExhausted, IdempotencyKeyRepository, NotificationRepository } from '@callbacks/persistence';
import type { DeliveryToEnqueue, InDoubtWrite } from '@callbacks/queue';
import { DomainError } from '../common/domain-error';
import { DeliveryScheduler } from './delivery-scheduler';
import { IntakeInDoubt } from './intake-in-doubt';
import { type IncomingNotification, type IntakeOutcome, type IntakeWrite, planIntake, settleIntake } from './intake-plan';

export type { IdempotencyKey, IncomingNotification, IntakeOutcome } from './intake-plan';

/**
 * Group commit: at most this many intake transactions run at once; requests that arrive meanwhile
 * share the next one (one INSERT, one addBulk). Two keep PostgreSQL busy while the next group forms.
 */
const GROUP_COMMITS_IN_FLIGHT = 2;
const MAX_GROUP = 500;

/** Retry-After of a 503 answered because the intake queue was full: it drains within moments. */
const QUEUE_FULL_RETRY_AFTER_S = 1;
/** Retry-After of a 503 answered at the intake deadline: the database is slow or stalled. */
const TIMEOUT_RETRY_AFTER_S = 5;

/** Raised inside an all-or-nothing commit to roll it back, carrying what became of each notification. */
class RolledBack {
  constructor(readonly outcomes: IntakeOutcome[]) {}
}

/** Raised inside a commit whose request(s) passed their deadline before COMMIT: it rolls back, storing nothing of theirs. */
class Abandoned {}

/** A COMMIT that failed after it was sent: its writes are registered in doubt, and its requests are answered 503. */
class CommitInDoubt extends DomainError {
  constructor() {
    super(
      503,
      'intake_timeout',
      'the database did not confirm the commit; nothing was stored (or it is replayed by its Idempotency-Key), retry',
      undefined,
      { 'Retry-After': String(TIMEOUT_RETRY_AFTER_S) },
    );
  }
}

/**
 * One request's way through intake. `open` until either its commit is acknowledged (`committed`:
 * it will be answered with the outcome) or its deadline passes first (`abandoned`: answered 503).
 * The two are decided in one synchronous step each, so exactly one happens. `written` holds what its
 * transaction wrote once it is about to COMMIT: the writes that are in doubt if it is abandoned then.
 */
interface IntakeTicket {
  state: 'open' | 'committed' | 'abandoned';
  written: InDoubtWrite[];
}

interface TicketedNotification {
  item: IncomingNotification;
  ticket: IntakeTicket;
}

function queueFull(limit: 'count' | 'bytes', config: AppConfig): DomainError {
  const bound =
    limit === 'count'
      ? `INTAKE_QUEUE_MAX (${config.intakeQueueMax} notifications)`
      : `INTAKE_QUEUE_MAX_BYTES (${config.intakeQueueMaxBytes} bytes)`;
  return new DomainError(503, 'intake_queue_full', `the intake queue is full (${bound}); nothing was stored, retry shortly`, undefined, {
    'Retry-After': String(QUEUE_FULL_RETRY_AFTER_S),
  });
}

function intakeTimeout(config: AppConfig): DomainError {
  return new DomainError(
    503,
    'intake_timeout',
    `the database did not commit within INTAKE_TIMEOUT_MS (${config.intakeTimeoutMs} ms); nothing was stored (or it is replayed by its Idempotency-Key), retry`,
    undefined,
    { 'Retry-After': String(TIMEOUT_RETRY_AFTER_S) },
  );
}

function beingDeleted(): DomainError {
  return new DomainError(
    503,
    'intake_timeout',
    'the request this Idempotency-Key first came with was answered 503 and its notification is being deleted; retry, and it is written anew',
    undefined,
    { 'Retry-After': '1' },
  );
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
  /** What intake holds in memory at once, single requests and batches alike (INTAKE_QUEUE_MAX, INTAKE_QUEUE_MAX_BYTES). */
  private readonly budget: Budget;
  private readonly group: Batcher<TicketedNotification, IntakeOutcome>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly notifications: NotificationRepository,
    private readonly idempotencyKeys: IdempotencyKeyRepository,
    private readonly scheduler: DeliveryScheduler,
    private readonly inDoubt: IntakeInDoubt,
    private readonly metrics: Metrics,
  ) {
    this.budget = new Budget(config.intakeQueueMax, config.intakeQueueMaxBytes);
    this.group = new Batcher((items: TicketedNotification[]) => this.commitGroup(items), {
      maxBatch: MAX_GROUP,
      maxInFlight: GROUP_COMMITS_IN_FLIGHT,
      budget: this.budget,
      sizeOf: ({ item }) => item.payloadText.length,
    });
  }

  /**
   * One notification, committed together with whatever other requests arrive at the same time.
   * 503 at once when the intake queue is full, and at INTAKE_TIMEOUT_MS when the commit has not
   * been acknowledged by then.
   */
  async accept(incoming: IncomingNotification): Promise<NotificationAcceptedDto> {
    const ticket = newTicket();
    const outcome = await this.withinDeadline([ticket], async (signal) => {
      for (let tries = 0; ; tries++) {
        const result = await this.group.submit({ item: incoming, ticket }, signal).catch((error: unknown) => {
          if (error instanceof BudgetExhausted) throw this.queueFull(error);
          throw error;
        });
        // Another request with the same key committed first: the next try replays its response.
        if (result.kind !== 'conflict') return result;
        if (tries > 0) throw new Error('the idempotency key conflicted twice in a row');
        ticket.state = 'open';
      }
    });
    if (outcome.kind === 'accepted') return outcome.response;
    if (outcome.kind === 'refused' || outcome.kind === 'failed') throw outcome.error;
    throw new Error('unreachable: a conflict is retried');
  }

  /**
   * Many notifications in one transaction, all or none: unless every one is accepted, nothing is
   * stored. Returns what became of each, in order (a refusal says why). Held against the same
   * budget and deadline as single requests.
   */
  async acceptAll(items: IncomingNotification[]): Promise<IntakeOutcome[]> {
    const bytes = items.reduce((sum, item) => sum + item.payloadText.length, 0);
    try {
      this.budget.take(items.length, bytes);
    } catch (error) {
      if (error instanceof BudgetExhausted) throw this.queueFull(error);
      throw error;
    }
    const ticket = newTicket();
    return this.withinDeadline([ticket], async () => {
      // Given back when the work ends, not when the request is answered: an abandoned batch holds its memory until then.
      try {
        for (let tries = 0; ; tries++) {
          const outcomes = await this.commit(
            items.map((item) => ({ item, ticket })),
            true,
          );
          if (!outcomes.some((outcome) => outcome.kind === 'conflict')) return outcomes;
          if (tries > 0) throw new Error('an idempotency key conflicted twice in a row');
          ticket.state = 'open';
        }
      } finally {
        this.budget.give(items.length, bytes);
      }
    });
  }

  private queueFull(error: BudgetExhausted): DomainError {
    this.metrics.intakeRejected.inc({ reason: 'queue_full' });
    return queueFull(error.limit, this.config);
  }

  /**
   * Runs `work` until its commit is acknowledged, or until INTAKE_TIMEOUT_MS, whichever comes
   * first. At the deadline a call that still waits for a group is withdrawn (the signal), a
   * transaction not yet at COMMIT rolls back (commit() sees the abandoned ticket), and the writes
   * of a transaction whose COMMIT is in doubt are registered with IntakeInDoubt; then 503.
   */
  private async withinDeadline<T>(tickets: IntakeTicket[], work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => {
        if (tickets.some((ticket) => ticket.state === 'committed')) return; // acknowledged: it finishes and is answered
        for (const ticket of tickets) ticket.state = 'abandoned';
        controller.abort(intakeTimeout(this.config));
        resolve('expired');
      }, this.config.intakeTimeoutMs);
    });
    const running = work(controller.signal);
    try {
      const first = await Promise.race([running, deadline]);
      if (first !== 'expired') return first as T;
    } catch (error) {
      if (tickets.some((ticket) => ticket.state !== 'abandoned')) throw error;
    } finally {
      clearTimeout(timer);
    }
    // Whatever the abandoned work still does ends in errors nobody waits for.
    running.catch(() => undefined);
    this.metrics.intakeRejected.inc({ reason: 'timeout' });
    await this.inDoubt.register(tickets.flatMap((ticket) => ticket.written));
    throw intakeTimeout(this.config);
  }

  /**
   * A group of unrelated requests. When the shared transaction fails (PostgreSQL unreachable, a
   * partner deleted meanwhile), each request is tried alone, so only the ones at fault fail. When
   * some of them passed their deadline before COMMIT, the others are committed without them.
   */
  private async commitGroup(items: TicketedNotification[]): Promise<IntakeOutcome[]> {
    const live = items.filter(({ ticket }) => ticket.state !== 'abandoned');
    if (live.length < items.length) {
      const outcomes = live.length > 0 ? await this.commitGroup(live) : [];
      // By membership in `live`, not by state now: more may have been abandoned while it committed.
      const byItem = new Map(live.map((item, index) => [item, outcomes[index]]));
      return items.map((item) => byItem.get(item) ?? { kind: 'failed', error: intakeTimeout(this.config) });
    }
    try {
      return await this.commit(items, false);
    } catch (error) {
      if (error instanceof Abandoned) return this.commitGroup(items);
      if (error instanceof CommitInDoubt) return items.map((): IntakeOutcome => ({ kind: 'failed', error }));
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

  private async commit(ticketed: TicketedNotification[], allOrNothing: boolean): Promise<IntakeOutcome[]> {
    const items = ticketed.map(({ item }) => item);
    const tickets = [...new Set(ticketed.map(({ ticket }) => ticket))];
    let committed: { outcomes: IntakeOutcome[]; writes: IntakeWrite[]; adopted: DeliveryToEnqueue[] };
    let inDoubt: InDoubtWrite[] | null = null;
    try {
      committed = await this.dataSource.transaction(async (manager) => {
        const result = await this.write(manager, items);
        if (allOrNothing && result.outcomes.some((outcome) => outcome.kind !== 'accepted')) throw new RolledBack(result.outcomes);
        // One synchronous step with the deadline's: either a request is abandoned before COMMIT
        // (roll back), or its writes are known before COMMIT is sent (in doubt if abandoned later).
        if (tickets.some((ticket) => ticket.state === 'abandoned')) throw new Abandoned();
        inDoubt = result.writes.map(({ index, notification }) => {
          const write: InDoubtWrite = {
            notificationId: notification.id,
            txid: result.txid!,
            partnerId: notification.partnerId,
            notificationTypeId: notification.notificationTypeId,
            test: notification.test,
          };
          ticketed[index].ticket.written.push(write);
          return write;
        });
        return result;
      });
    } catch (error) {
      if (error instanceof RolledBack) return error.outcomes;
      // COMMIT was sent and failed (the connection broke, a timeout): it may have landed. Tried
      // again, the same requests would be written twice; answered 503, their writes are in doubt.
      if (inDoubt !== null) {
        await this.inDoubt.register(inDoubt);
        throw new CommitInDoubt();
      }
      throw error;
    }
    // Acknowledged: requests still open will be answered with their outcome; abandoned ones were
    // answered 503, and their writes (registered as in doubt) are deleted, never enqueued.
    for (const ticket of tickets) if (ticket.state === 'open') ticket.state = 'committed';
    const deliveries: DeliveryToEnqueue[] = [...committed.adopted];
    for (const { index, notification } of committed.writes) {
      if (ticketed[index].ticket.state === 'abandoned') continue;
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

  /**
   * Reads what PostgreSQL holds for the items, decides (planIntake), writes, and settles each item's
   * outcome. A replayed pending notification may be an in-doubt write (its first request was
   * answered 503): this retry adopts it (enqueued after the commit), or, when it is being deleted,
   * the whole commit is refused with 503 so the retry writes anew.
   */
  private async write(
    manager: EntityManager,
    items: IncomingNotification[],
  ): Promise<{ outcomes: IntakeOutcome[]; writes: IntakeWrite[]; txid: string | null; adopted: DeliveryToEnqueue[] }> {
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
    const settled = settleIntake(plan, written.ids);
    const writtenIds = new Set(settled.writes.map((write) => write.notification.id));
    const replayed = new Map<string, IncomingNotification>();
    settled.outcomes.forEach((outcome, index) => {
      if (outcome.kind === 'accepted' && outcome.response.status === 'pending' && !writtenIds.has(outcome.response.notificationId))
        replayed.set(outcome.response.notificationId, items[index]);
    });
    const adoption = await this.inDoubt.adopt([...replayed.keys()]);
    if (adoption.deleting.size > 0) throw beingDeleted();
    const adopted = [...adoption.adopted].map((notificationId) => {
      const item = replayed.get(notificationId)!;
      return { notificationId, partnerId: item.partnerId, notificationTypeId: item.notificationTypeId, round: 0, test: item.test };
    });
    return { ...settled, txid: written.txid, adopted };
  }
}

function newTicket(): IntakeTicket {
  return { state: 'open', written: [] };
}
