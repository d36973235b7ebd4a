import { tracing } from './tracing';
import 'reflect-metadata';
import { Logger } from 'nestjs-pino';
import { startService } from '@callbacks/config';
import { SHUTDOWN_MARGIN_MS } from './delivery/delivery.processor';
import { createWorkerApp, startWorkerApp } from './worker-app';

/** After the forced close, how long closing connections (PostgreSQL pools, Redis, the tracer) may take. */
const CONNECTIONS_CLOSE_MS = 5_000;

void startService('worker', async ({ config, warnings }) => {
  const app = await createWorkerApp(config);
  const logger = app.get(Logger);
  for (const warning of warnings) logger.warn(warning);
  await startWorkerApp(app, config);
  logger.log(
    `worker running with concurrency ${config.workerConcurrency}${config.queueShards > 1 ? ` over ${config.queueShards} queue shards` : ''}${config.workerPort > 0 ? `; health and metrics on port ${config.workerPort}` : ''}`,
  );
  // The last spans are sent after the app has closed. Past the forced close of deliveries in flight
  // (DELIVERY_TIMEOUT_MS + 10 s), a few seconds more for the connections, then the process goes.
  return {
    close: () => app.close().then(() => tracing?.shutdown()),
    closeDeadlineMs: config.deliveryTimeoutMs + SHUTDOWN_MARGIN_MS + CONNECTIONS_CLOSE_MS,
  };
});
