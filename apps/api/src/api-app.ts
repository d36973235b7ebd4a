import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import type { AppConfig } from '@callbacks/config';
import { ProblemDto, SERVICE_VERSION } from '@callbacks/contracts';
import { AppModule } from './app.module';
import { requireJsonBody } from './common/json-body.middleware';
import { ProblemFilter } from './common/problem.filter';
import { DtoValidationPipe } from './common/validation';
import { setUpPortal } from './portal/portal-http';

export const MAX_BODY_BYTES = 256 * 1024;

function setUpOpenApi(app: NestExpressApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Partner Callbacks')
      .setDescription(
        'Register HTTPS callback URLs per notification type and receive signed (Standard Webhooks) JSON deliveries, retried until they land. ' +
          'Every error is application/problem+json with a stable `code`.',
      )
      .setVersion(SERVICE_VERSION)
      .setLicense('MIT', 'https://spdx.org/licenses/MIT.html')
      .addServer('/', 'This deployment: the document is served by the API it describes')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'A partner API key, or the operator key' })
      // Every operation needs the key unless it declares otherwise (ApiPublic: an empty security).
      .addSecurityRequirements('bearer')
      .build(),
    { extraModels: [ProblemDto] },
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}

/** Builds the API application (not yet listening): used by main.ts and by the e2e tests. */
export async function createApiApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), {
    bodyParser: false,
    rawBody: true,
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  app.use(requireJsonBody);
  setUpPortal(app);
  app.useBodyParser('json', { limit: MAX_BODY_BYTES, type: ['application/json', 'application/*+json'] });
  app.useGlobalFilters(new ProblemFilter());
  app.useGlobalPipes(new DtoValidationPipe());
  setUpOpenApi(app);
  return app;
}
