import type { Type } from '@nestjs/common';
import { Processor } from '@nestjs/bullmq';
import type { AppConfig } from '@callbacks/config';
import { queueShards } from '@callbacks/queue';
import { DeliveryProcessor } from './delivery.processor';

/**
 * One processor per queue shard, so every worker consumes every shard. Shard 0 is DeliveryProcessor
 * itself; each other shard gets a subclass bound to its queue, which inherits everything else (the
 * worker options, concurrency, the event handlers and the graceful shutdown) and runs its own
 * BullMQ worker, which takes up to WORKER_CONCURRENCY jobs: a busy shard (one large partner) may
 * use the whole concurrency, so a process has at most QUEUE_SHARDS times that in flight.
 */
export function deliveryProcessors(config: AppConfig): Array<Type<DeliveryProcessor>> {
  return queueShards(config).map((shard) => {
    if (shard.index === 0) return DeliveryProcessor;
    const ShardProcessor = class extends DeliveryProcessor {};
    Object.defineProperty(ShardProcessor, 'name', { value: `DeliveryProcessorShard${shard.index}` });
    Processor(shard.queueName)(ShardProcessor);
    return ShardProcessor;
  });
}
