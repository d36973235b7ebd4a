import { tracing } from './tracing';
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Logger } from 'nestjs-pino';
import { startService } from '@callbacks/config';
import { createApiApp } from './api-app';

void startService('api', async ({ config, warnings }) => {
  const app = await createApiApp(config);
  const logger = app.get(Logger);
  for (const warning of warnings) logger.warn(warning);
  await app.listen(config.port);
  // PORT=0 takes a free port: the line says which.
  const { port } = app.getHttpServer().address() as AddressInfo;
  logger.log(`API listening on port ${port}; OpenAPI at /docs`);
  // The last spans are sent after the app has closed.
  return { close: () => app.close().then(() => tracing?.shutdown()) };
});
