import type { Type } from '@nestjs/common';
import { Processor } from '@nestjs/bullmq';
import type { AppConfig } from '@callbacks/config';
import { queueShards } from '@callbacks/queue';
import { DeliveryProcessor } from './delivery.processor';

/**
 * One processor per queue shard, so every worker consumes every shard. Shard 0 is DeliveryProcessor
 * itself; each other shard gets a subclass bound to its queue, which inherits everything else (the
 * worker options, concurrency, the event handlers and the graceful shutdown) and runs its own
 * BullMQ worker (each takes its share of WORKER_CONCURRENCY: see shardWorkerConcurrency).
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
