import type { ConnectionOptions, RedisOptions as QueueRedisOptions } from 'bullmq';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { AppConfig } from '@callbacks/config';

export type RedisRole = 'worker' | 'producer';
/** A connection to the one Redis at REDIS_URL, or to the Redis Cluster of REDIS_CLUSTER_NODES. */
export type RedisClient = Redis | Cluster;
/** What choosing a client depends on. */
export type RedisSettings = Pick<AppConfig, 'redisUrl' | 'redisClusterNodes'>;

/**
 * ioredis options from REDIS_URL. Workers must retry commands forever (BullMQ requires
 * maxRetriesPerRequest: null); producers fail fast instead of buffering commands in memory
 * while Redis is down, because PostgreSQL already holds every accepted event.
 */
export function redisConnectionOptions(redisUrl: string, role: RedisRole): QueueRedisOptions {
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

/**
 * A Redis Cluster client on REDIS_CLUSTER_NODES. Every node gets REDIS_URL's credentials and TLS
 * and the role's retry rules; a cluster has database 0 only.
 */
function clusterClient(settings: RedisSettings, role: RedisRole, extra: RedisOptions): Cluster {
  const {
    host: _host,
    port: _port,
    db: _db,
    retryStrategy,
    enableAutoPipelining,
    lazyConnect,
    ...nodeOptions
  } = { ...redisConnectionOptions(settings.redisUrl, role), ...extra };
  return new Cluster(settings.redisClusterNodes ?? [], {
    redisOptions: nodeOptions,
    enableOfflineQueue: nodeOptions.enableOfflineQueue,
    enableAutoPipelining,
    clusterRetryStrategy: retryStrategy,
    lazyConnect,
  });
}

/**
 * The one way to open a Redis connection for a role: a Cluster client in cluster mode, else a
 * client on REDIS_URL. `extra` adds ioredis options (connectionName, enableAutoPipelining, …).
 */
export function createRedisClient(settings: RedisSettings, role: RedisRole, extra: RedisOptions = {}): RedisClient {
  if (settings.redisClusterNodes) return clusterClient(settings, role, extra);
  return new Redis({ ...redisConnectionOptions(settings.redisUrl, role), ...extra });
}

/**
 * BullMQ's `connection`: options for one Redis (BullMQ opens and closes its own connections), or,
 * in cluster mode, a Cluster client that every queue and worker of the process shares (BullMQ
 * cannot open a cluster from options); its owner closes it after them.
 */
export function queueConnection(settings: RedisSettings, role: RedisRole): ConnectionOptions {
  // Lazy: the module that holds it is defined before the application starts (BullMQ connects it).
  return settings.redisClusterNodes
    ? clusterClient(settings, role, { lazyConnect: true })
    : redisConnectionOptions(settings.redisUrl, role);
}

/** Closes a client: QUIT, or a plain disconnect when Redis does not answer. */
export async function closeRedisClient(client: RedisClient): Promise<void> {
  await client.quit().catch(() => client.disconnect());
}
