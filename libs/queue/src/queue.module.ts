import { type DynamicModule, Module, type OnApplicationShutdown } from '@nestjs/common';
import { BullModule, getQueueToken } from '@nestjs/bullmq';
import type { ConnectionOptions, Queue } from 'bullmq';
import { Cluster } from 'ioredis';
import { BullMQOtel } from 'bullmq-otel';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { DeliveryQueues } from './delivery-queues';
import { queueShards } from './queue-shards';
import { closeRedisClient, queueConnection, type RedisRole } from './redis-connection';

/** Closes the cluster client that the process's queues and workers share, after they have closed. */
class SharedQueueConnection implements OnApplicationShutdown {
  constructor(private readonly connection: ConnectionOptions) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.connection instanceof Cluster) await closeRedisClient(this.connection);
  }
}

/**
 * BullMQ on REDIS_URL (or the Redis Cluster of REDIS_CLUSTER_NODES), with one delivery queue per
 * shard registered under its own prefix, and DeliveryQueues over them. Queue shard 0 is also
 * injectable as @InjectQueue(DELIVERY_QUEUE). With tracing on, BullMQ's telemetry (bullmq-otel) puts
 * the producer's trace context in each job, and the worker's job span continues that trace;
 * without it, no telemetry object exists at all.
 */
@Module({})
export class DeliveryQueueModule {
  static register(role: RedisRole, config: AppConfig): DynamicModule {
    const shards = queueShards(config);
    const connection = queueConnection(config, role);
    return {
      module: DeliveryQueueModule,
      global: true,
      imports: [
        BullModule.forRoot({
          connection,
          prefix: config.queuePrefix,
          ...(config.tracingEnabled ? { telemetry: new BullMQOtel({ tracerName: 'bullmq' }) } : {}),
        }),
        BullModule.registerQueue(...shards.map((shard) => ({ name: shard.queueName, prefix: shard.prefix }))),
      ],
      providers: [
        { provide: SharedQueueConnection, useValue: new SharedQueueConnection(connection) },
        {
          provide: DeliveryQueues,
          inject: [APP_CONFIG, ...shards.map((shard) => getQueueToken(shard.queueName))],
          useFactory: (appConfig: AppConfig, ...queues: Queue[]) => new DeliveryQueues(appConfig, queues),
        },
      ],
      exports: [BullModule, DeliveryQueues],
    };
  }
}
