import { createHash, randomUUID } from 'node:crypto';
import { disabledSkipReason, type NotificationAcceptedDto, type NotificationStatus } from '@callbacks/contracts';
import { type AcceptedNotification, callerKey, IDEMPOTENCY_WINDOW_HOURS, type StoredIdempotencyKey } from '@callbacks/persistence';
import { DomainError } from '../common/domain-error';

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

/** Where each notification would go, as PostgreSQL says now: does its partner exist, is its callback enabled (null: none). */
export interface IntakeTarget {
  partnerExists: boolean;
  enabled: boolean | null;
  /** Why a disabled callback is disabled ("partner", "failing", …); null when enabled or absent. */
  disabledReason: string | null;
}

/** A notification to write, and the item it answers. */
export interface IntakeWrite {
  index: number;
  notification: AcceptedNotification;
}

/**
 * What a commit does, decided before anything is written: the items settled already (refused, or
 * replaying a stored key), the notifications to write, the later uses of a key within the commit
 * (each answers like its first use), and the stored keys whose window is over (deleted first).
 */
export interface IntakePlan {
  outcomes: Array<IntakeOutcome | undefined>;
  writes: IntakeWrite[];
  sameAs: Array<[index: number, firstUse: number]>;
  staleKeys: IdempotencyKey[];
}

/** What an idempotency key is bound to: the same key may only replay the same partner, type and payload. */
export function requestHash(incoming: IncomingNotification): string {
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

/** The first decision of a notification without a settled key: refused (no partner, or no callback an echo needs), or written. */
function target(item: IncomingNotification, where: IntakeTarget): { status: NotificationStatus; reason: string | null } | DomainError {
  if (!where.partnerExists) return DomainError.notFound('partner_not_found', `partner ${item.partnerId} does not exist`);
  if (where.enabled === null && item.requireCallback) {
    return DomainError.notFound(
      'callback_not_found',
      `partner ${item.partnerId} has no callback for notification type ${item.notificationTypeId}`,
    );
  }
  return {
    status: where.enabled ? 'pending' : 'skipped',
    reason: where.enabled === null ? 'no_callback' : where.enabled ? null : disabledSkipReason(where.disabledReason),
  };
}

/**
 * The idempotency sorting of one commit: `targets` and `storedKeys` are what PostgreSQL holds for
 * the items (in order; by callerKey). A key used again within the commit answers like its first
 * use if the request is the same, else 422; a fresh stored key replays its response if the request
 * is the same (or the key predates request hashes), else 422; a stale one is replaced.
 */
export function planIntake(
  items: IncomingNotification[],
  targets: IntakeTarget[],
  storedKeys: Map<string, StoredIdempotencyKey>,
  newId: () => string = randomUUID,
): IntakePlan {
  const plan: IntakePlan = { outcomes: new Array(items.length), writes: [], sameAs: [], staleKeys: [] };
  const hashes = items.map((item) => (item.idempotency ? requestHash(item) : null));
  const firstUse = new Map<string, number>();
  items.forEach((item, index) => {
    if (item.idempotency) {
      const earlier = firstUse.get(callerKey(item.idempotency));
      if (earlier !== undefined) {
        if (hashes[earlier] === hashes[index]) plan.sameAs.push([index, earlier]);
        else plan.outcomes[index] = { kind: 'refused', error: keyReused(item.idempotency) };
        return;
      }
      firstUse.set(callerKey(item.idempotency), index);
      const stored = storedKeys.get(callerKey(item.idempotency));
      if (stored?.fresh) {
        plan.outcomes[index] =
          stored.requestHash !== null && stored.requestHash !== hashes[index]
            ? { kind: 'refused', error: keyReused(item.idempotency) }
            : { kind: 'accepted', response: { notificationId: stored.notificationId, status: stored.responseStatus } };
        return;
      }
      if (stored) plan.staleKeys.push(item.idempotency);
    }
    const decision = target(item, targets[index]);
    if (decision instanceof DomainError) {
      plan.outcomes[index] = { kind: 'refused', error: decision };
      return;
    }
    const notification: AcceptedNotification = {
      id: newId(),
      partnerId: item.partnerId,
      notificationTypeId: item.notificationTypeId,
      payloadText: item.payloadText,
      processUniqueId: caseId(item.payload, 'processUniqueId'),
      simulationUniqueId: caseId(item.payload, 'simulationUniqueId'),
      test: item.test,
      status: decision.status,
      statusReason: decision.reason,
      idempotency: item.idempotency ? { caller: item.idempotency.caller, key: item.idempotency.key, requestHash: hashes[index] } : null,
    };
    plan.writes.push({ index, notification });
    plan.outcomes[index] = { kind: 'accepted', response: { notificationId: notification.id, status: decision.status } };
  });
  return plan;
}

/**
 * Every item's outcome once the plan's notifications are written (`written`: the ids that were): a
 * notification not written lost its key to another transaction (conflict: asked again, it
 * replays); later uses of a key answer like the first. Returns the outcomes and the writes that happened.
 */
export function settleIntake(plan: IntakePlan, written: Set<string>): { outcomes: IntakeOutcome[]; writes: IntakeWrite[] } {
  const outcomes = [...plan.outcomes];
  const writes = plan.writes.filter((write) => {
    if (written.has(write.notification.id)) return true;
    outcomes[write.index] = { kind: 'conflict' };
    return false;
  });
  for (const [index, firstUse] of plan.sameAs) outcomes[index] = outcomes[firstUse];
  return { outcomes: outcomes as IntakeOutcome[], writes };
}
