import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import type { AppConfig } from '@callbacks/config';
import { AppModule } from './app.module';
import { requireJsonBody } from './common/json-body.middleware';
import { ProblemFilter } from './common/problem.filter';
import { DtoValidationPipe } from './common/validation';
import { setUpOpenApi } from './openapi/openapi-http';
import { setUpPortal } from './portal/portal-http';

export const MAX_BODY_BYTES = 256 * 1024;

/** Builds the API application (not yet listening): used by main.ts and by the e2e tests. */
export async function createApiApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), {
    bodyParser: false,
    rawBody: true,
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  // request.ip: the connection's address, or X-Forwarded-For's only behind the proxies TRUST_PROXY names.
  app.set('trust proxy', config.trustProxy ?? false);
  app.use(requireJsonBody);
  setUpPortal(app);
  app.useBodyParser('json', { limit: MAX_BODY_BYTES, type: ['application/json', 'application/*+json'] });
  app.useGlobalFilters(new ProblemFilter());
  app.useGlobalPipes(new DtoValidationPipe());
  setUpOpenApi(app, config);
  return app;
}
