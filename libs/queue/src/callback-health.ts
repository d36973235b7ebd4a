import type { CallbackHealth } from '@callbacks/contracts';
import { callbackShard, type QueueShard, type ShardSettings } from './queue-shards';

/**
 * Redis keys of one callback's isolation state, named by partner and notification type (what a job
 * carries, so the worker can ask before it has read the callback), under the hash-tag prefix of
 * the callback's shard, so that a Redis Cluster keeps them in the slot of the queue that holds the
 * callback's jobs. Any new per-callback key belongs here, for the same reason.
 * - inFlight: sorted set of deliveries being sent now (score = lease expiry), for the in-flight cap
 * - circuit: hash {failures, openUntil} of consecutive failures and the circuit's open deadline
 * - probe: the one delivery let through while the circuit is half-open
 * - waiting: sorted set of the job ids parked behind the in-flight cap (score = when they parked),
 *   handed a slot in that order as deliveries end
 * - handed: sorted set of the parked jobs handed a slot and not yet running (score = when each may
 *   start): the slot stays theirs until they run
 * - starts: sorted set of recent (and reserved) attempt starts, for the callback's ratePerSecond
 * - started: sorted set of the attempts that actually started in the last second (a job picked up
 *   later than its reserved start must not make the next second busier), for ratePerSecond
 * - oauthToken: hash of the callback's cached OAuth2 access token (encrypted) or of its last token
 *   failure, shared by every worker; oauthLock: the one worker fetching a new token
 */
export function callbackKeys(settings: ShardSettings, partnerId: string, notificationTypeId: number): CallbackKeys {
  return callbackKeysUnder(callbackShard(settings, partnerId, notificationTypeId).prefix, partnerId, notificationTypeId);
}

export interface CallbackKeys {
  inFlight: string;
  circuit: string;
  probe: string;
  waiting: string;
  handed: string;
  starts: string;
  started: string;
  oauthToken: string;
  oauthLock: string;
}

/**
 * A callback's keys under one shard's prefix, its own or another's: after QUEUE_SHARDS changed, keys
 * left under the shard it had before (an erasure deletes them under every shard).
 */
export function callbackKeysUnder(shardPrefix: string, partnerId: string, notificationTypeId: number): CallbackKeys {
  const base = `${shardPrefix}:callback:${partnerId}:${notificationTypeId}`;
  return {
    inFlight: `${base}:inflight`,
    circuit: `${base}:circuit`,
    probe: `${base}:probe`,
    waiting: `${base}:waiting`,
    handed: `${base}:handed`,
    starts: `${base}:starts`,
    started: `${base}:started`,
    oauthToken: `${base}:oauth-token`,
    oauthLock: `${base}:oauth-lock`,
  };
}

/** ok: no recent failure; degraded: failing but below the threshold; open: deliveries held back. */
export function callbackHealth(consecutiveFailures: number, threshold: number): CallbackHealth {
  if (consecutiveFailures >= threshold) return 'open';
  return consecutiveFailures > 0 ? 'degraded' : 'ok';
}

/**
 * The set of callbacks (`<partnerId>:<notificationTypeId>`) that have parked deliveries, one per
 * shard (beside its callbacks' keys, in their slot): the reconciler looks at each once a pass for
 * a lost wake, so a parked backlog costs no periodic work in proportion to its size.
 */
export function parkedCallbacksKey(shard: Pick<QueueShard, 'prefix'>): string {
  return `${shard.prefix}:parked-callbacks`;
}

/** The member of a parked-callbacks set that names one callback, and back. */
export function parkedCallbackMember(partnerId: string, notificationTypeId: number): string {
  return `${partnerId}:${notificationTypeId}`;
}

export function parseParkedCallbackMember(member: string): { partnerId: string; notificationTypeId: number } | null {
  const separator = member.lastIndexOf(':');
  const notificationTypeId = Number(member.slice(separator + 1));
  if (separator <= 0 || !Number.isInteger(notificationTypeId)) return null;
  return { partnerId: member.slice(0, separator), notificationTypeId };
}
