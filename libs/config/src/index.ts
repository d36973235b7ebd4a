export * from './config';
export * from './duration';
export * from './dotenv';
export * from './service-preflight';
export * from './start-service';
export * from './config.module';
export * from './tracing';
