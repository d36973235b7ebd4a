import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import type { AppConfig } from '@callbacks/config';
import { WorkerModule } from './worker.module';

/**
 * Builds a worker: the delivery processor, the reconciler, and a small HTTP server for
 * /health, /health/ready and /metrics on WORKER_PORT (0 disables the server, not the worker).
 */
export async function createWorkerApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(WorkerModule.register(config), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  return app;
}

export async function startWorkerApp(app: NestExpressApplication, config: AppConfig): Promise<void> {
  if (config.workerPort > 0) await app.listen(config.workerPort);
  else await app.init();
}
