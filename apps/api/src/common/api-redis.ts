import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { createRedisClient, type RedisClient } from '@callbacks/queue';

/**
 * The API's own Redis connection (rate-limit counters, callback health), separate from BullMQ's:
 * one Redis, or a Redis Cluster client in cluster mode. Like the queue producer it fails fast while
 * Redis is down; its callers degrade instead of failing. Auto-pipelining batches concurrent
 * commands (per node in a cluster), so callers send single-key commands, never cross-slot pipelines.
 */
@Injectable()
export class ApiRedis implements OnApplicationShutdown {
  readonly client: RedisClient;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.client = createRedisClient(config, 'producer', { connectionName: 'partner-callbacks-api', enableAutoPipelining: true });
    this.client.on('error', () => undefined); // BullMQ's connection reports Redis trouble (RedisErrorReporter)
  }

  onApplicationShutdown(): void {
    this.client.disconnect();
  }
}

@Global()
@Module({ providers: [ApiRedis], exports: [ApiRedis] })
export class ApiRedisModule {}
