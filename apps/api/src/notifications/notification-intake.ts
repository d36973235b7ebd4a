import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash, randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { type NotificationAcceptedDto, type NotificationStatus, notificationTypeName } from '@callbacks/contracts';
import { Metrics } from '@callbacks/observability';
import { Batcher, IDEMPOTENCY_WINDOW_HOURS } from '@callbacks/persistence';
import type { DeliveryToEnqueue } from '@callbacks/queue';
import { DomainError } from '../common/domain-error';
import { DeliveryScheduler } from './delivery-scheduler';

/**
 * Group commit: at most this many intake transactions run at once; requests that arrive meanwhile
 * share the next one (one INSERT, one addBulk). Two keep PostgreSQL busy while the next group forms.
 */
const GROUP_COMMITS_IN_FLIGHT = 2;
const MAX_GROUP = 500;

/** An Idempotency-Key and who sent it: keys are scoped to their caller. */
export interface IdempotencyKey {
  caller: string;
  key: string;
  /** Where the key came from, for the error that refuses it ("Idempotency-Key", "notifications[3].idempotencyKey"). */
  field: string;
}

export interface IncomingNotification {
  partnerId: string;
  notificationTypeId: number;
  /** The validated payload, for the fields intake indexes (the case it is about). */
  payload: Record<string, unknown>;
  /** The payload exactly as received: what is stored and sent. */
  payloadText: string;
  test: boolean;
  /** Echo requests need a callback (404 otherwise); platform events are recorded as skipped. */
  requireCallback: boolean;
  idempotency?: IdempotencyKey;
}

/**
 * What became of one notification in a commit. `conflict`: another transaction committed the same
 * idempotency key meanwhile; asked again, the notification replays that transaction's response.
 */
export type IntakeOutcome =
  | { kind: 'accepted'; response: NotificationAcceptedDto }
  | { kind: 'refused'; error: DomainError }
  | { kind: 'conflict' }
  | { kind: 'failed'; error: unknown };

/** What an idempotency key is bound to: the same key may only replay the same partner, type and payload. */
function requestHash(incoming: IncomingNotification): string {
  return createHash('sha256').update(`${incoming.partnerId}\n${incoming.notificationTypeId}\n${incoming.payloadText}`).digest('hex');
}

function caseId(payload: Record<string, unknown>, field: 'processUniqueId' | 'simulationUniqueId'): string | null {
  const value = payload[field];
  return typeof value === 'string' ? value : null;
}

function keyReused({ key, field }: IdempotencyKey): DomainError {
  return new DomainError(
    422,
    'idempotency_key_reused',
    `${field} "${key}" was already used within ${IDEMPOTENCY_WINDOW_HOURS} hours for a different request (partner, type or payload); use a new key`,
    [{ field, message: 'was already used for a different request' }],
  );
}

const keyOf = ({ caller, key }: IdempotencyKey) => `${caller}\n${key}`;

interface NewRow {
  index: number;
  id: string;
  status: NotificationStatus;
  reason: string | null;
}

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
    let committed: { outcomes: IntakeOutcome[]; rows: NewRow[] };
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
    for (const row of committed.rows) {
      const incoming = items[row.index];
      this.metrics.notificationsAccepted.inc({
        type: notificationTypeName(incoming.notificationTypeId),
        status: row.status,
        source: incoming.test ? 'echo' : 'event',
      });
      if (row.status === 'pending') {
        deliveries.push({
          notificationId: row.id,
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

  private async write(manager: EntityManager, items: IncomingNotification[]): Promise<{ outcomes: IntakeOutcome[]; rows: NewRow[] }> {
    const hashes = items.map((item) => (item.idempotency ? requestHash(item) : null));
    const targets = await this.targets(manager, items);
    const keys = await this.storedKeys(manager, items);
    const outcomes: Array<IntakeOutcome | undefined> = new Array(items.length);
    /** A key used twice within this commit: the later use answers like the earlier one (or 422 for another request). */
    const firstUse = new Map<string, number>();
    const sameAs: Array<[number, number]> = [];
    const staleKeys: IdempotencyKey[] = [];
    const rows: NewRow[] = [];
    items.forEach((item, index) => {
      if (item.idempotency) {
        const earlier = firstUse.get(keyOf(item.idempotency));
        if (earlier !== undefined) {
          if (hashes[earlier] === hashes[index]) sameAs.push([index, earlier]);
          else outcomes[index] = { kind: 'refused', error: keyReused(item.idempotency) };
          return;
        }
        firstUse.set(keyOf(item.idempotency), index);
        const stored = keys.get(keyOf(item.idempotency));
        if (stored?.fresh) {
          outcomes[index] =
            stored.request_hash !== null && stored.request_hash !== hashes[index]
              ? { kind: 'refused', error: keyReused(item.idempotency) }
              : { kind: 'accepted', response: { notificationId: stored.notification_id, status: stored.response_status } };
          return;
        }
        if (stored) staleKeys.push(item.idempotency);
      }
      const target = targets[index];
      if (!target.partner_exists) {
        outcomes[index] = { kind: 'refused', error: DomainError.notFound('partner_not_found', `partner ${item.partnerId} does not exist`) };
      } else if (target.enabled === null && item.requireCallback) {
        outcomes[index] = {
          kind: 'refused',
          error: DomainError.notFound(
            'callback_not_found',
            `partner ${item.partnerId} has no callback for notification type ${item.notificationTypeId}`,
          ),
        };
      } else {
        const status: NotificationStatus = target.enabled ? 'pending' : 'skipped';
        const reason = target.enabled === null ? 'no_callback' : target.enabled ? null : 'callback_disabled';
        const id = randomUUID();
        rows.push({ index, id, status, reason });
        outcomes[index] = { kind: 'accepted', response: { notificationId: id, status } };
      }
    });
    if (staleKeys.length > 0) {
      await manager.query(`DELETE FROM idempotency_keys WHERE (caller, key) IN (SELECT * FROM unnest($1::varchar[], $2::varchar[]))`, [
        staleKeys.map((key) => key.caller),
        staleKeys.map((key) => key.key),
      ]);
    }
    const inserted = await this.insert(manager, items, hashes, rows);
    const written = rows.filter((row) => {
      if (inserted.has(row.id)) return true;
      outcomes[row.index] = { kind: 'conflict' };
      return false;
    });
    for (const [index, earlier] of sameAs) outcomes[index] = outcomes[earlier];
    return { outcomes: outcomes as IntakeOutcome[], rows: written };
  }

  /** For each notification, in order: does its partner exist, and is its callback enabled (null: none). */
  private async targets(
    manager: EntityManager,
    items: IncomingNotification[],
  ): Promise<Array<{ partner_exists: boolean; enabled: boolean | null }>> {
    return (await manager.query(
      `SELECT p.id IS NOT NULL AS partner_exists, c.enabled
         FROM unnest($1::uuid[], $2::smallint[]) WITH ORDINALITY AS i(partner_id, type_id, ord)
         LEFT JOIN partners p ON p.id = i.partner_id
         LEFT JOIN callbacks c ON c.partner_id = i.partner_id AND c.notification_type_id = i.type_id
        ORDER BY i.ord`,
      [items.map((item) => item.partnerId), items.map((item) => item.notificationTypeId)],
    )) as Array<{ partner_exists: boolean; enabled: boolean | null }>;
  }

  /** The stored idempotency keys among the notifications', by caller and key. */
  private async storedKeys(
    manager: EntityManager,
    items: IncomingNotification[],
  ): Promise<Map<string, { notification_id: string; response_status: NotificationStatus; request_hash: string | null; fresh: boolean }>> {
    const keys = items.flatMap((item) => (item.idempotency ? [item.idempotency] : []));
    if (keys.length === 0) return new Map();
    const rows = (await manager.query(
      `SELECT caller, key, notification_id, response_status, request_hash, created_at > now() - make_interval(hours => $3) AS fresh
         FROM idempotency_keys WHERE (caller, key) IN (SELECT * FROM unnest($1::varchar[], $2::varchar[]))`,
      [keys.map((key) => key.caller), keys.map((key) => key.key), IDEMPOTENCY_WINDOW_HOURS],
    )) as Array<{
      caller: string;
      key: string;
      notification_id: string;
      response_status: NotificationStatus;
      request_hash: string | null;
      fresh: boolean;
    }>;
    return new Map(rows.map((row) => [`${row.caller}\n${row.key}`, row]));
  }

  /**
   * One statement writes the notifications and their idempotency keys. A key that another
   * transaction holds is skipped (ON CONFLICT waits for that transaction), and so is its
   * notification; the ids written come back.
   */
  private async insert(
    manager: EntityManager,
    items: IncomingNotification[],
    hashes: Array<string | null>,
    rows: NewRow[],
  ): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const column = <T>(value: (item: IncomingNotification, row: NewRow) => T) => rows.map((row) => value(items[row.index], row));
    const written = (await manager.query(
      `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::smallint[], $4::text[], $5::varchar[], $6::varchar[], $7::boolean[], $8::varchar[], $9::varchar[], $10::varchar[], $11::varchar[], $12::char(64)[])
           AS t(id, partner_id, notification_type_id, payload, process_unique_id, simulation_unique_id, test, status, status_reason, caller, key, request_hash)
       ), keyed AS (
         INSERT INTO idempotency_keys (caller, key, notification_id, response_status, request_hash)
         SELECT caller, key, id, status, request_hash FROM input WHERE key IS NOT NULL
         ON CONFLICT DO NOTHING
         RETURNING notification_id
       )
       INSERT INTO notifications (id, partner_id, notification_type_id, payload, process_unique_id, simulation_unique_id, test, status, status_reason, next_attempt_at)
       SELECT id, partner_id, notification_type_id, payload::json, process_unique_id, simulation_unique_id, test, status, status_reason,
              CASE WHEN status = 'pending' THEN now() END
         FROM input WHERE key IS NULL OR id IN (SELECT notification_id FROM keyed)
       RETURNING id`,
      [
        column((_, row) => row.id),
        column((item) => item.partnerId),
        column((item) => item.notificationTypeId),
        column((item) => item.payloadText),
        column((item) => caseId(item.payload, 'processUniqueId')),
        column((item) => caseId(item.payload, 'simulationUniqueId')),
        column((item) => item.test),
        column((_, row) => row.status),
        column((_, row) => row.reason),
        column((item) => item.idempotency?.caller ?? null),
        column((item) => item.idempotency?.key ?? null),
        column((_, row) => hashes[row.index]),
      ],
    )) as Array<{ id: string }>;
    return new Set(written.map((row) => row.id));
  }
}
