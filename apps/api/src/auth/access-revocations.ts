import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { createRedisClient, type RedisClient, withTimeout } from '@callbacks/queue';
import { ApiRedis } from '../common/api-redis';
import { ApiKeyCache } from './api-key-cache';

/** How long a revocation waits for every API process to confirm it has applied it. */
export const REVOCATION_CONFIRM_MS = 1_000;
const CONFIRM_POLL_MS = 10;

/** What every API process must stop accepting: these keys, and every key of the partner. */
export interface Revocation {
  apiKeyIds: string[];
  partnerId?: string;
}

interface RevocationMessage extends Revocation {
  id: string;
}

/**
 * Revocations reach every API process through Redis pub/sub: each process subscribes at start,
 * clears what it remembers (ApiKeyCache), and confirms by incrementing a counter; the revoking
 * request waits until as many processes confirmed as PUBLISH reached (itself included), at most
 * REVOCATION_CONFIRM_MS. So once DELETE answers, no replica that was listening still accepts the
 * key. A replica cut off from Redis misses the message: its cache entries expire within
 * API_KEY_CACHE_MS, the bound that remains when Redis is unreachable.
 * Portal sessions are not cached anywhere: ending them takes effect on every process at once.
 */
@Injectable()
export class AccessRevocations implements OnModuleInit, OnApplicationShutdown {
  private readonly channel: string;
  private subscriber?: RedisClient;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly redis: ApiRedis,
    private readonly apiKeys: ApiKeyCache,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('AccessRevocations');
    this.channel = `${config.queuePrefix}:access-revoked`;
  }

  async onModuleInit(): Promise<void> {
    // A connection of its own (a subscribed connection sends nothing else), retrying while Redis is away; it resubscribes on reconnect.
    this.subscriber = createRedisClient(this.config, 'worker', { connectionName: 'partner-callbacks-api-revocations' });
    this.subscriber.on('error', () => undefined); // BullMQ's connection reports Redis trouble (RedisErrorReporter)
    this.subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.channel) void this.receive(text);
    });
    try {
      await withTimeout(this.subscriber.subscribe(this.channel), 5_000, 'subscribing to revocations');
    } catch (error) {
      this.logger.warn({ err: error }, `not subscribed to revocations yet; until then revoked keys expire from the cache within 5 s`);
    }
  }

  onApplicationShutdown(): void {
    this.subscriber?.disconnect();
  }

  /** Applies the revocation here, publishes it, and waits (at most REVOCATION_CONFIRM_MS) until every listening API process has applied it. */
  async publish(revocation: Revocation): Promise<void> {
    await this.apply(revocation);
    const message: RevocationMessage = { id: randomUUID(), ...revocation };
    try {
      const receivers = await withTimeout(this.redis.client.publish(this.channel, JSON.stringify(message)), 500, 'publishing a revocation');
      const deadline = Date.now() + REVOCATION_CONFIRM_MS;
      while (Number(await this.redis.client.get(this.confirmKey(message.id))) < receivers) {
        if (Date.now() >= deadline) {
          this.logger.warn({ revocationId: message.id, receivers }, 'not every API process confirmed a revocation within 1 s');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, CONFIRM_POLL_MS));
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'could not publish a revocation; other API processes drop the key from their caches within 5 s');
    }
  }

  private async receive(text: string): Promise<void> {
    let message: RevocationMessage;
    try {
      message = JSON.parse(text) as RevocationMessage;
    } catch {
      return;
    }
    await this.apply(message);
    const key = this.confirmKey(message.id);
    await this.redis.client.incr(key).catch(() => undefined);
    await this.redis.client.pexpire(key, 60_000).catch(() => undefined);
  }

  private async apply(revocation: Revocation): Promise<void> {
    await this.apiKeys.forget(revocation.apiKeyIds, revocation.partnerId);
  }

  private confirmKey(id: string): string {
    return `${this.config.queuePrefix}:access-revoked:${id}`;
  }
}
