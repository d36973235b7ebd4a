export * from './delivery-queue';
export * from './redis-connection';
export * from './queue.module';
export * from './with-timeout';
export * from './callback-health';
export * from './operator-event-queue';
export * from './job-revival';
