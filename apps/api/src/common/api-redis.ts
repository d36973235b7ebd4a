import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { redisConnectionOptions } from '@callbacks/queue';

/**
 * The API's own Redis connection (rate-limit counters, callback health), separate from BullMQ's.
 * Like the queue producer it fails fast while Redis is down; its callers degrade instead of failing.
 */
@Injectable()
export class ApiRedis extends Redis implements OnApplicationShutdown {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super({ ...redisConnectionOptions(config.redisUrl, 'producer'), connectionName: 'partner-callbacks-api' });
    this.on('error', () => undefined); // BullMQ's connection reports Redis trouble (RedisErrorReporter)
  }

  onApplicationShutdown(): void {
    this.disconnect();
  }
}

@Global()
@Module({ providers: [ApiRedis], exports: [ApiRedis] })
export class ApiRedisModule {}
