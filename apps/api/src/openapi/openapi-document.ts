import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { NOTIFICATION_TYPES, ProblemDto, SERVICE_VERSION } from '@callbacks/contracts';
import { addWebhooks } from './webhooks';

/** The OpenAPI version of the document: 3.1, whose schemas are JSON Schema 2020-12 (the catalog's dialect). */
export const OPENAPI_VERSION = '3.1.0';

/** Request bodies that carry a `notificationTypeId` and its `payload`: each payload is bound to its type's schema. */
const TYPED_PAYLOAD_BODIES = ['PublishNotificationDto', 'PublishNotificationBatchItemDto'];

/**
 * States, in a schema that has `notificationTypeId` and `payload`, that the payload follows the
 * schema of that type: one variant per catalog type (the ids are distinct, so exactly one applies).
 */
function bindPayloadsToTheirType(document: OpenAPIObject): void {
  const schemas = document.components?.schemas ?? {};
  for (const name of TYPED_PAYLOAD_BODIES) {
    const schema = schemas[name] as Record<string, unknown> | undefined;
    if (!schema) throw new Error(`the OpenAPI document has no ${name} schema to bind payloads in`);
    schema.oneOf = NOTIFICATION_TYPES.map((type) => ({
      title: `${type.name} (${type.id})`,
      required: ['notificationTypeId', 'payload'],
      properties: {
        notificationTypeId: { const: type.id },
        payload: { $ref: `#/components/schemas/${type.payloadSchema.title}` },
      },
    }));
  }
}

/**
 * The OpenAPI 3.1 document, generated from the code in one step: Nest's scan of the controllers and
 * DTOs (emitted as 3.1 by @nestjs/swagger, `nullable` turned into `type: [..., "null"]`), plus what
 * the code holds outside any route: the catalog's payload schemas, the webhooks partners receive and
 * the operator events (`addWebhooks`).
 */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setOpenAPIVersion(OPENAPI_VERSION)
      .setTitle('Partner Callbacks')
      .setDescription(
        'Register HTTPS callback URLs per notification type and receive signed (Standard Webhooks) JSON deliveries, retried until they land. ' +
          'Every error is application/problem+json with a stable `code`. ' +
          'What we POST to your callback URL is under Webhooks: one entry per notification type, with its payload schema, headers and ' +
          'what each of your answers causes. A Postman collection of these requests: /docs/postman.json.',
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
  bindPayloadsToTheirType(document);
  addWebhooks(document);
  return document;
}
