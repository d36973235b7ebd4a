import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { NotificationRepository } from '@callbacks/persistence';
import { type InDoubtWrite, intakeInDoubtKey, withTimeout } from '@callbacks/queue';
import { ApiRedis } from '../common/api-redis';
import { DomainError } from '../common/domain-error';

/** How often the resolver looks at the in-doubt writes (an HGETALL of a hash that is almost always empty). */
const RESOLVE_INTERVAL_MS = 1_000;
/** A resolver that claimed writes and did not delete them within this long (it died, PostgreSQL stalled) is relieved. */
const CLAIM_MS = 60_000;
const REDIS_TIMEOUT_MS = 2_000;

function script(name: 'adopt' | 'claim'): string {
  return readFileSync(join(__dirname, 'lua', `${name}.lua`), 'utf8');
}

export interface Adoption {
  /** Replayed notifications that were in doubt and are now adopted: the caller enqueues them. */
  adopted: Set<string>;
  /** Replayed notifications whose rows are being deleted: the caller answers 503, and the retry writes anew. */
  deleting: Set<string>;
}

/**
 * The intake writes whose request was answered 503 while their COMMIT was in doubt (sent, not
 * acknowledged within INTAKE_TIMEOUT_MS). Such a request must leave no delivery behind unless it is
 * retried with its Idempotency-Key, so each write is registered in Redis (intakeInDoubtKey) before
 * the 503 goes out; the reconciler never enqueues a registered notification. Every API process
 * resolves the registered writes once a second: pg_xact_status() of the transaction says whether it
 * committed; aborted writes are forgotten, committed ones deleted (claimed first, so that a retry
 * adopting one and the deletion exclude each other). A retry with the key that reaches a committed
 * write before the resolver adopts it (adopt.lua): it is enqueued and the retry replays its response.
 * Writes that could not be registered (Redis down) are kept here and registered when Redis answers;
 * meanwhile nothing can enqueue them either.
 */
@Injectable()
export class IntakeInDoubt implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly key: string;
  private readonly scripts = { adopt: script('adopt'), claim: script('claim') };
  private readonly unregistered: InDoubtWrite[] = [];
  private timer: NodeJS.Timeout | undefined;
  private resolving = false;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly redis: ApiRedis,
    private readonly notifications: NotificationRepository,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('IntakeInDoubt');
    this.key = intakeInDoubtKey(config.queuePrefix);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.resolve(), RESOLVE_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Registers writes whose request is about to be answered 503. Never throws: what Redis does not take now is registered later. */
  async register(writes: InDoubtWrite[]): Promise<void> {
    if (writes.length === 0) return;
    this.logger.warn(
      { notificationIds: writes.slice(0, 20).map((write) => write.notificationId), count: writes.length, txid: writes[0].txid },
      'intake answered 503 while its commit was in doubt; its writes will be deleted unless retried with their Idempotency-Key',
    );
    try {
      await this.store(writes);
    } catch (error) {
      this.logger.warn({ err: error, count: writes.length }, 'could not register in-doubt intake writes in Redis; will retry');
      this.unregistered.push(...writes);
    }
  }

  /** For replayed notifications (a retry's Idempotency-Key found them): which were in doubt and are now adopted, which are being deleted. */
  async adopt(notificationIds: string[]): Promise<Adoption> {
    const adoption: Adoption = { adopted: new Set(), deleting: new Set() };
    if (notificationIds.length === 0) return adoption;
    let results: number[];
    try {
      results = (await withTimeout(
        this.redis.client.eval(this.scripts.adopt, 1, this.key, ...notificationIds),
        REDIS_TIMEOUT_MS,
        'adopting in-doubt intake writes',
      )) as number[];
    } catch {
      // Without Redis a replay cannot tell whether its notification is being deleted: it is not answered 202 blindly.
      throw new DomainError(
        503,
        'service_unavailable',
        'a replay by Idempotency-Key cannot be checked while Redis is unavailable; nothing was stored, retry shortly',
        undefined,
        { 'Retry-After': '5' },
      );
    }
    notificationIds.forEach((id, index) => {
      if (results[index] === 1) adoption.adopted.add(id);
      if (results[index] === -1) adoption.deleting.add(id);
    });
    return adoption;
  }

  /** One pass: registers what waited for Redis, then resolves every registered write whose transaction has ended. */
  async resolve(): Promise<void> {
    if (this.resolving) return;
    this.resolving = true;
    try {
      if (this.unregistered.length > 0) await this.store(this.unregistered.splice(0));
      const entries = await withTimeout(this.redis.client.hgetall(this.key), REDIS_TIMEOUT_MS, 'reading in-doubt intake writes');
      const writes = Object.values(entries)
        .filter((value) => value.startsWith('{'))
        .map((value) => JSON.parse(value) as InDoubtWrite);
      const staleClaims = Object.entries(entries)
        .filter(([, value]) => value.startsWith('deleting:') && Number(value.slice('deleting:'.length)) + CLAIM_MS < Date.now())
        .map(([notificationId]) => notificationId);
      if (writes.length === 0 && staleClaims.length === 0) return;
      const statuses = await this.notifications.transactionStatuses([...new Set(writes.map((write) => write.txid))]);
      const aborted = writes.filter((write) => statuses.get(write.txid) === 'aborted').map((write) => write.notificationId);
      // Committed, or too old for PostgreSQL to tell: delete (deleting rows that do not exist is harmless).
      const ended = writes.filter((write) => [undefined, null, 'committed'].includes(statuses.get(write.txid)));
      if (aborted.length > 0) await this.redis.client.hdel(this.key, ...aborted);
      const candidates = [...ended.map((write) => write.notificationId), ...staleClaims];
      if (candidates.length === 0) return;
      const claimed = (await this.redis.client.eval(this.scripts.claim, 1, this.key, Date.now(), CLAIM_MS, ...candidates)) as string[];
      if (claimed.length === 0) return;
      const deleted = await this.notifications.deleteAbandoned(claimed);
      await this.redis.client.hdel(this.key, ...claimed);
      this.logger.warn(
        { deleted, resolved: claimed.length, aborted: aborted.length },
        'deleted the writes of intake requests answered 503',
      );
    } catch (error) {
      this.logger.warn({ err: error }, 'could not resolve in-doubt intake writes; will retry');
    } finally {
      this.resolving = false;
    }
  }

  private async store(writes: InDoubtWrite[]): Promise<void> {
    const fields = writes.flatMap((write) => [write.notificationId, JSON.stringify(write)]);
    await withTimeout(this.redis.client.hset(this.key, ...fields), REDIS_TIMEOUT_MS, 'registering in-doubt intake writes');
  }
}
