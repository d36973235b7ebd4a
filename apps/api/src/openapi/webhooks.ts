import type { OpenAPIObject, OperationObject, ParameterObject, PathItemObject, ResponsesObject, SchemaObject } from '@nestjs/swagger';
import {
  DELIVERY_USER_AGENT,
  NOTIFICATION_ID_EXAMPLE,
  NOTIFICATION_TYPES,
  OPERATOR_EVENTS,
  operatorEventSchema,
  WEBHOOK_HEADER_SCHEMAS,
  webhookEnvelopeSchema,
} from '@callbacks/contracts';

const WEBHOOKS_TAG = 'Webhooks';
const OPERATOR_EVENTS_TAG = 'Operator events';

/** `status.changed` -> `StatusChanged`. */
function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

/** `status.changed` -> `statusChanged`. */
function camel(name: string): string {
  const joined = pascal(name);
  return joined.charAt(0).toLowerCase() + joined.slice(1);
}

const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const parameterRef = (name: string) => ({ $ref: `#/components/parameters/${name}` });

/** The component name of a notification type's envelope (the body of its webhook). */
function webhookSchemaName(typeName: string): string {
  return `${pascal(typeName)}Webhook`;
}

/** The component name of an operator event's body. */
function operatorEventSchemaName(type: string): string {
  return `${pascal(type)}Event`;
}

const SIGNATURE_DESCRIPTION =
  'Space-separated signatures `<version>,<base64>` over the string `{webhook-id}.{webhook-timestamp}.{body}` (the raw body, before any JSON parsing). ' +
  '`v1`: HMAC-SHA256 keyed with the base64-decoded part of the signing secret `whsec_…`; for 24 hours after a secret rotation there are two `v1` entries, one per secret. ' +
  '`v1a`: Ed25519, for a callback with `signature: "ed25519"` (or `"both"`, which sends both kinds), checked with its public key `whpk_…` ' +
  '(`GET /{partnerUniqueID}/callbacks/{notificationType}/public-key`). Accept the webhook when any one entry verifies; ignore versions you do not know. ' +
  'Any Standard Webhooks library does this.';

const PARAMETERS: Record<string, ParameterObject> = {
  WebhookId: {
    name: 'webhook-id',
    in: 'header',
    required: true,
    description:
      'The notificationId (for an operator event, the event id): the same on every retry and redelivery, so deduplicate on it (delivery is at-least-once).',
    schema: WEBHOOK_HEADER_SCHEMAS['webhook-id'],
    example: NOTIFICATION_ID_EXAMPLE,
  },
  WebhookTimestamp: {
    name: 'webhook-timestamp',
    in: 'header',
    required: true,
    description: 'Unix seconds when this attempt was signed. Reject timestamps more than 5 minutes from your clock (replays).',
    schema: WEBHOOK_HEADER_SCHEMAS['webhook-timestamp'],
    example: '1795687200',
  },
  WebhookSignature: {
    name: 'webhook-signature',
    in: 'header',
    required: true,
    description: SIGNATURE_DESCRIPTION,
    schema: WEBHOOK_HEADER_SCHEMAS['webhook-signature'],
    examples: {
      hmac: { summary: 'HMAC-SHA256 (the default)', value: 'v1,A/QkEaiRpTT8NxRUS4s/YKIajvZdcu4WRkPxKvGfSgs=' },
      rotation: {
        summary: 'Within 24 hours of a secret rotation: one per secret',
        value: 'v1,A/QkEaiRpTT8NxRUS4s/YKIajvZdcu4WRkPxKvGfSgs= v1,t8014LBljKtCpvEJYJ6m+lxx8Z1h9U3cT2BDc/68Afg=',
      },
      ed25519: {
        summary: 'signature "both": HMAC and Ed25519',
        value:
          'v1,A/QkEaiRpTT8NxRUS4s/YKIajvZdcu4WRkPxKvGfSgs= v1a,nMMvT386HULjGbuGhswAWichn1NgVT7tMo9ZSXA123PjD2o6uF+Rk72P+cZwiYqLxR9BD9XuriFS6Uaj+DJngQ==',
      },
    },
  },
  WebhookUserAgent: {
    name: 'user-agent',
    in: 'header',
    required: true,
    description: 'The service and its version.',
    schema: { type: 'string' },
    example: DELIVERY_USER_AGENT,
  },
  WebhookTraceparent: {
    name: 'traceparent',
    in: 'header',
    required: false,
    description: 'W3C trace context; sent only when the deployment sets WEBHOOK_TRACEPARENT=true (and tracing is on).',
    schema: { type: 'string', pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$' },
  },
};

const RETRY_AFTER = {
  'Retry-After': {
    description: 'Seconds, or an HTTP date: the next attempt waits at least this long (at most the largest RETRY_SCHEDULE delay).',
    schema: { type: 'string' },
  },
};

const RETRIED =
  'The attempt failed and is retried after the next RETRY_SCHEDULE delay (by default 5s, 5m, 30m, 2h, 5h, 10h, 10h, each ±10 %); ' +
  'after the last retry the notification ends failed. The same applies to a timeout (DELIVERY_TIMEOUT_MS, 15 s by default, for the whole answer), ' +
  'a connection error, and a redirect, which is never followed.';

function responses(options: { gone: boolean; what: string }): ResponsesObject {
  const slowDown = (status: string) => ({
    description: `${status}: slow down. With Retry-After the next attempt waits at least that long (at most the largest scheduled delay); otherwise as any other failure.`,
    headers: RETRY_AFTER,
  });
  return {
    '2XX': {
      description: `Delivered: any 2xx within the timeout ends the ${options.what} delivered. The response body is ignored (the first 1 KiB is kept in the delivery log).`,
    },
    ...(options.gone
      ? {
          '410': {
            description:
              'Gone: the callback is disabled (disabledReason "gone") and receives nothing more until a PUT of the callback enables it again.',
          },
        }
      : {}),
    '429': slowDown('Too Many Requests'),
    '503': slowDown('Service Unavailable'),
    default: { description: `Any other status: ${RETRIED}` },
  };
}

const HEADER_PARAMETERS = [
  parameterRef('WebhookId'),
  parameterRef('WebhookTimestamp'),
  parameterRef('WebhookSignature'),
  parameterRef('WebhookUserAgent'),
  parameterRef('WebhookTraceparent'),
];

/** A POST we send, marked for its audience (`x-audience`, as the routes are). */
function post(audience: 'partner' | 'operator', operation: OperationObject): PathItemObject {
  return { post: { ...operation, 'x-audience': audience } as OperationObject };
}

/**
 * Adds what the service sends to the document: the catalog's payload schemas (the objects that
 * validate at intake, by their titles), one `webhooks` entry per notification type with its
 * envelope, and the operator events, marked `x-audience: operator`.
 */
export function addWebhooks(document: OpenAPIObject): void {
  const schemas = (document.components ??= {}).schemas ?? {};
  document.components.schemas = schemas;
  document.components.parameters = { ...document.components.parameters, ...PARAMETERS };
  const webhooks: NonNullable<OpenAPIObject['webhooks']> = {};

  for (const type of NOTIFICATION_TYPES) {
    // A copy: nothing that edits the document may reach the schema that validates at intake.
    schemas[type.payloadSchema.title] = structuredClone(type.payloadSchema);
    const envelope = webhookSchemaName(type.name);
    schemas[envelope] = webhookEnvelopeSchema(type, schemaRef(type.payloadSchema.title)) as SchemaObject;
    webhooks[type.name] = post('partner', {
      operationId: `${camel(type.name)}Webhook`,
      summary: `${type.name} (notification type ${type.id})`,
      description:
        `${type.description} We POST this to the callback URL registered for type ${type.id} (\`PUT /{partnerUniqueID}/callbacks/${type.id}\`), ` +
        "with `content-type: application/json`, the Standard Webhooks headers below and the callback's custom headers. " +
        '`data` is the payload exactly as the platform gave it, byte for byte. A test echo arrives the same way with `"test": true`.',
      tags: [WEBHOOKS_TAG],
      security: [],
      parameters: HEADER_PARAMETERS,
      requestBody: { required: true, content: { 'application/json': { schema: schemaRef(envelope) } } },
      responses: responses({ gone: true, what: 'notification' }),
    });
  }

  for (const event of OPERATOR_EVENTS) {
    const name = operatorEventSchemaName(event.type);
    schemas[name] = operatorEventSchema(event) as SchemaObject;
    webhooks[event.type] = post('operator', {
      operationId: `${camel(event.type)}OperatorEvent`,
      summary: `${event.type} (operator event)`,
      description:
        `For operators, not partners. ${event.description} POSTed to OPERATOR_WEBHOOK_URL, signed (v1) with OPERATOR_WEBHOOK_SECRET; ` +
        'durable and retried like partner webhooks.',
      tags: [OPERATOR_EVENTS_TAG],
      security: [],
      parameters: HEADER_PARAMETERS,
      requestBody: { required: true, content: { 'application/json': { schema: schemaRef(name) } } },
      responses: responses({ gone: false, what: 'event' }),
    });
  }
  document.webhooks = { ...document.webhooks, ...webhooks };
}
