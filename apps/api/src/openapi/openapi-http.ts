import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import type { AppConfig } from '@callbacks/config';
import { createOpenApiDocument } from './openapi-document';

/** Serves the document: `/docs` (Swagger UI), `/docs-json`. */
export function setUpOpenApi(app: NestExpressApplication, _config: AppConfig): void {
  const document = createOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
