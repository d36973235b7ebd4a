import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { loadConfig } from '@callbacks/config';
import { AppModule } from '../app.module';
import { OPENAPI_FILE, POSTMAN_COLLECTION_FILE } from './openapi-files';
import { createOpenApiDocument } from './openapi-document';
import { toPostmanCollection } from './postman-collection';

/*
 * The last step of `nx run api:build`: the OpenAPI document and the Postman collection made from it,
 * written beside the built API. The app is created in preview mode (controllers scanned, nothing
 * connected), so the build needs neither PostgreSQL nor Redis. The converter is a dev dependency:
 * the running API only serves the file.
 */
async function writeOpenApi(): Promise<void> {
  const { config } = loadConfig({});
  const app = await NestFactory.create(AppModule.register(config), { preview: true, logger: false });
  const document = createOpenApiDocument(app);
  const collection = await toPostmanCollection(document);
  writeFileSync(OPENAPI_FILE, `${JSON.stringify(document, null, 2)}\n`);
  writeFileSync(POSTMAN_COLLECTION_FILE, `${JSON.stringify(collection, null, 2)}\n`);
  await app.close();
}

writeOpenApi().then(
  () => process.stdout.write(`wrote ${OPENAPI_FILE} and ${POSTMAN_COLLECTION_FILE}\n`),
  (error: unknown) => {
    process.stderr.write(`writing the OpenAPI document and the Postman collection failed: ${String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  },
);
