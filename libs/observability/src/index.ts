export * from './log-redaction';
export * from './logging.module';
export * from './ops.module';
