import { join } from 'node:path';

/**
 * Where the build (write-openapi.ts, run by `nx run api:build`) writes the OpenAPI document and the
 * Postman collection: beside the built module, dist/apps/api/apps/api/src/openapi/.
 */
export const OPENAPI_FILE = join(__dirname, 'openapi.json');
export const POSTMAN_COLLECTION_FILE = join(__dirname, 'postman.json');
