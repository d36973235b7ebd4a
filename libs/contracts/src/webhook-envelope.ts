import { ISO_TIME_EXAMPLE, PARTNER_ID_EXAMPLE } from './dto/api-property-helpers';

export const SERVICE_NAME = 'partner-callbacks';
export const SERVICE_VERSION = '0.1.0';
/** The user-agent of every delivery. */
export const DELIVERY_USER_AGENT = `${SERVICE_NAME}/${SERVICE_VERSION}`;

/** The JSON body a partner's callback URL receives. */
export interface WebhookEnvelope {
  type: string;
  notificationTypeId: number;
  /** ISO-8601 time the event was accepted. */
  timestamp: string;
  partnerUniqueId: string;
  test: boolean;
  /** Only for a callback with delivery.ordering "case": 1, 2, 3… per callback and case, in acceptance order. */
  sequence?: number;
  /** The payload exactly as the platform (or the echo caller) gave it. */
  data: Record<string, unknown>;
}

/**
 * The envelope's JSON text with the payload spliced in as the text received: nothing is parsed, so
 * the cost is the payload's bytes, and the partner gets the payload byte for byte.
 */
export function serializeEnvelope(head: Omit<WebhookEnvelope, 'data'>, payloadText: string): string {
  const headText = JSON.stringify(head);
  return `${headText.slice(0, -1)},"data":${payloadText}}`;
}

export const NOTIFICATION_STATUSES = ['pending', 'delivered', 'failed', 'skipped'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/** How a failed attempt ended when no HTTP status explains it. */
export const ATTEMPT_ERROR_KINDS = [
  'timeout',
  'connection_refused',
  'connection_reset',
  'dns',
  // The endpoint's TLS failed (its certificate, or it refused ours); the reason is in the attempt's errorDetail.
  'tls_error',
  'blocked_address',
  'network',
  // WEBHOOK_PROXY_URL could not be reached or did not open the tunnel: our infrastructure, not the partner's.
  'proxy_error',
  // The callback's OAuth2 token could not be obtained from its token URL.
  'auth_error',
  // Nothing was sent: the attempt fell due while the callback's circuit was open.
  'circuit_open',
  // Nothing more will be sent: the job's workers died under it repeatedly.
  'worker_crash',
  // Attempts recorded before tls_error replaced it.
  'tls',
] as const;
export type AttemptErrorKind = (typeof ATTEMPT_ERROR_KINDS)[number];

/**
 * A webhook-signature header: space-separated `v1,<base64 HMAC-SHA256>` entries (two during a secret
 * rotation) and, for a callback signed with ed25519, `v1a,<base64 Ed25519>` entries.
 */
export const WEBHOOK_SIGNATURE_PATTERN = '^v1a?,[A-Za-z0-9+/]+={0,2}( v1a?,[A-Za-z0-9+/]+={0,2})*$';

/** The Standard Webhooks headers of every delivery (partner webhooks and operator events), as JSON Schemas. */
export const WEBHOOK_HEADER_SCHEMAS = {
  'webhook-id': { type: 'string', format: 'uuid' },
  'webhook-timestamp': { type: 'string', pattern: '^[0-9]{1,12}$' },
  'webhook-signature': { type: 'string', pattern: WEBHOOK_SIGNATURE_PATTERN },
} as const;

/**
 * The JSON Schema (2020-12) of one notification type's envelope, the body a partner receives. `data`
 * is the type's payload schema, or a reference to it.
 */
export function webhookEnvelopeSchema(
  type: { id: number; name: string; description: string; example: Record<string, unknown> },
  data: Record<string, unknown>,
): Record<string, unknown> {
  const example: WebhookEnvelope = {
    type: type.name,
    notificationTypeId: type.id,
    timestamp: ISO_TIME_EXAMPLE,
    partnerUniqueId: PARTNER_ID_EXAMPLE,
    test: false,
    data: type.example,
  };
  return {
    description: `The body of a ${type.name} webhook: ${type.description}`,
    type: 'object',
    required: ['type', 'notificationTypeId', 'timestamp', 'partnerUniqueId', 'test', 'data'],
    properties: {
      type: { type: 'string', const: type.name, description: 'The notification type, by name.' },
      notificationTypeId: { type: 'integer', const: type.id, description: 'The notification type, by id.' },
      timestamp: {
        type: 'string',
        format: 'date-time',
        description: 'When the event was accepted (ISO-8601, UTC); the same on every retry and redelivery.',
      },
      partnerUniqueId: { type: 'string', format: 'uuid', description: 'The partner the webhook is for.' },
      test: { type: 'boolean', description: 'true for a test echo (POST /v1/callbacks/echo/…), false for a platform event.' },
      sequence: {
        type: 'integer',
        minimum: 1,
        description:
          'Only on a callback whose delivery.ordering is "case": 1, 2, 3… per callback and case (processUniqueId or simulationUniqueId), ' +
          'in the order the events were accepted. Absent otherwise.',
      },
      data: { ...data, description: 'The payload exactly as the platform gave it (byte for byte in the body).' },
    },
    examples: [example],
  };
}
