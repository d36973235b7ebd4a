export * from './log-redaction';
export * from './logging.module';
export * from './metrics';
export * from './ops.module';
export * from './redis-error-reporter';
