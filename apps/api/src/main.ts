import { tracing } from './tracing';
import 'reflect-metadata';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
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
  const server = app.getHttpServer() as Server;
  return {
    close: () => {
      // From the signal on, every response closes its connection. Closing the server only stops new
      // connections: a client that keeps a keep-alive connection busy (a load balancer's health
      // check, a partner's SDK) would otherwise be served on it, and hold the shutdown open, for ever.
      server.on('request', (_request: IncomingMessage, response: ServerResponse) => response.setHeader('Connection', 'close'));
      // The last spans are sent after the app has closed.
      return app.close().then(() => tracing?.shutdown());
    },
  };
});
