/**
 * A notification written by an intake transaction whose request was answered 503 while its COMMIT
 * was in doubt (sent, not yet acknowledged): it may have been committed, and must not be delivered
 * unless a retry with its Idempotency-Key adopts it. `txid` is the transaction's id
 * (pg_current_xact_id()), which pg_xact_status() later resolves.
 */
export interface InDoubtWrite {
  notificationId: string;
  txid: string;
  partnerId: string;
  notificationTypeId: number;
  test: boolean;
}

/**
 * The Redis hash of in-doubt intake writes: field = notification id, value = the InDoubtWrite as
 * JSON, or `deleting:<ms>` while the API deletes its rows. The API registers entries before it
 * answers 503 and resolves them; the reconciler never enqueues a notification listed here.
 */
export function intakeInDoubtKey(queuePrefix: string): string {
  return `${queuePrefix}:intake:in-doubt`;
}

/** The notification ids among `ids` that are in doubt (listed in the hash): not to be enqueued. */
/** The one command it needs, as both ioredis clients and BullMQ's connection have it. */
export interface HashReader {
  hmget(key: string, ...fields: string[]): Promise<Array<string | null>>;
}

export async function inDoubtAmong(redis: HashReader, queuePrefix: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const values = await redis.hmget(intakeInDoubtKey(queuePrefix), ...ids);
  return new Set(ids.filter((_, index) => values[index] !== null));
}
