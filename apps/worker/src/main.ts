import { tracing } from './tracing';
import 'reflect-metadata';
import { Logger } from 'nestjs-pino';
import { startService } from '@callbacks/config';
import { createWorkerApp, startWorkerApp } from './worker-app';

void startService('worker', async ({ config, warnings }) => {
  const app = await createWorkerApp(config);
  const logger = app.get(Logger);
  for (const warning of warnings) logger.warn(warning);
  await startWorkerApp(app, config);
  logger.log(
    `worker running with concurrency ${config.workerConcurrency}${config.queueShards > 1 ? ` over ${config.queueShards} queue shards` : ''}${config.workerPort > 0 ? `; health and metrics on port ${config.workerPort}` : ''}`,
  );
  // The last spans are sent after the app has closed.
  return { close: () => app.close().then(() => tracing?.shutdown()) };
});
