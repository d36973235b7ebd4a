import type { Type } from '@nestjs/common';
import { Processor } from '@nestjs/bullmq';
import type { AppConfig } from '@callbacks/config';
import { DELIVERY_LOCK_DURATION_MS, deliveryLockOptions, queueShards } from '@callbacks/queue';
import { DELIVERY_WORKER_OPTIONS, DeliveryProcessor } from './delivery.processor';

/**
 * One processor per queue shard, so every worker consumes every shard. Shard 0 is DeliveryProcessor
 * itself (a subclass too when DELIVERY_LOCK_MS is not the default, to carry that lock); each other
 * shard gets a subclass bound to its queue, which inherits everything else (the
 * worker options, concurrency, the event handlers and the graceful shutdown) and runs its own
 * BullMQ worker with WORKER_CONCURRENCY slots. The shards do not share one budget, since a split
 * (WORKER_CONCURRENCY / QUEUE_SHARDS each) starves the shard that hashing gave the busiest
 * callbacks: a process has up to QUEUE_SHARDS times WORKER_CONCURRENCY deliveries in flight
 * (README, "Scaling on Redis Cluster").
 */
export function deliveryProcessors(config: AppConfig): Array<Type<DeliveryProcessor>> {
  return queueShards(config).map((shard) => {
    if (shard.index === 0 && config.deliveryLockMs === DELIVERY_LOCK_DURATION_MS) return DeliveryProcessor;
    const ShardProcessor = class extends DeliveryProcessor {};
    Object.defineProperty(ShardProcessor, 'name', { value: `DeliveryProcessorShard${shard.index}` });
    // The decorator's options replace the base class's: the lock (DELIVERY_LOCK_MS) is restated with the rest.
    Processor(shard.queueName, { ...DELIVERY_WORKER_OPTIONS, ...deliveryLockOptions(config.deliveryLockMs) })(ShardProcessor);
    return ShardProcessor;
  });
}
