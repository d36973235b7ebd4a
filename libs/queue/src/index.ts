export * from './delivery-queue';
export * from './delivery-queues';
export * from './queue-shards';
export * from './redis-connection';
export * from './queue.module';
export * from './with-timeout';
export * from './callback-health';
