import type { CallbackHealth } from '@callbacks/contracts';
import { callbackShard, type ShardSettings } from './queue-shards';

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
    oauthToken: `${base}:oauth-token`,
    oauthLock: `${base}:oauth-lock`,
  };
}

/** ok: no recent failure; degraded: failing but below the threshold; open: deliveries held back. */
export function callbackHealth(consecutiveFailures: number, threshold: number): CallbackHealth {
  if (consecutiveFailures >= threshold) return 'open';
  return consecutiveFailures > 0 ? 'degraded' : 'ok';
}
