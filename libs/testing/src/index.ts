export * from './test-environment';
export * from './test-run';
export * from './test-receiver';
export * from './wait-until';
export * from './child-app';
export * from './otlp-receiver';
export * from './redis-cluster';
export * from './tcp-proxy';
