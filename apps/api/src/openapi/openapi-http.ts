import { readFileSync } from 'node:fs';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import type { AppConfig } from '@callbacks/config';
import { POSTMAN_COLLECTION_FILE } from './openapi-files';
import { createOpenApiDocument } from './openapi-document';

export const POSTMAN_COLLECTION_PATH = '/docs/postman.json';

interface StoredCollection {
  variable: Array<{ key: string; value: string }>;
}

/**
 * The Postman collection written at build time, read once; null when this process runs from source
 * without a build (tests that create the app in-process).
 */
function loadPostmanCollection(): StoredCollection | null {
  try {
    return JSON.parse(readFileSync(POSTMAN_COLLECTION_FILE, 'utf8')) as StoredCollection;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Serves the document: `/docs` (Swagger UI), `/docs-json`, and the Postman collection made from it. */
export function setUpOpenApi(app: NestExpressApplication, config: AppConfig): void {
  let collection: StoredCollection | null | undefined;
  app.use((request: Request, response: Response, next: NextFunction) => {
    if (request.path !== POSTMAN_COLLECTION_PATH || (request.method !== 'GET' && request.method !== 'HEAD')) return next();
    collection ??= loadPostmanCollection();
    if (!collection) {
      response.status(404).type('application/problem+json').send({
        type: 'about:blank',
        title: 'Not Found',
        status: 404,
        code: 'route_not_found',
        detail: 'The Postman collection is written by the build (npm run build); this process runs without one.',
      });
      return;
    }
    // baseUrl: where this collection was downloaded from, so that it runs against this deployment.
    const baseUrl = config.publicBaseUrl ?? `${request.protocol}://${request.get('host') ?? 'localhost'}`;
    response.json({
      ...collection,
      variable: collection.variable.map((variable) => (variable.key === 'baseUrl' ? { ...variable, value: baseUrl } : variable)),
    });
  });
  SwaggerModule.setup('docs', app, createOpenApiDocument(app), { jsonDocumentUrl: 'docs-json' });
}
