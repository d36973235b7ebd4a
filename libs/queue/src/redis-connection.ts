import type { RedisOptions } from 'bullmq';

/**
 * ioredis options from REDIS_URL. Workers must retry commands forever (BullMQ requires
 * maxRetriesPerRequest: null); producers fail fast instead of buffering commands in memory
 * while Redis is down, because PostgreSQL already holds every accepted event.
 */
export function redisConnectionOptions(redisUrl: string, role: 'worker' | 'producer'): RedisOptions {
  const url = new URL(redisUrl);
  const database = url.pathname.replace('/', '');
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: Number(url.port || 6379),
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: database ? Number(database) : 0,
    tls: url.protocol === 'rediss:' ? {} : undefined,
    connectionName: `partner-callbacks-${role}`,
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    enableOfflineQueue: role === 'worker',
    retryStrategy: (times: number) => Math.min(times * 200, 2_000),
  };
}
