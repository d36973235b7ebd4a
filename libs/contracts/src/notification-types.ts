/**
 * The notification-type catalog: the one place that names the types the platform sends.
 * Renaming a type is a one-line change here; the id is what partners register against.
 */
export interface NotificationTypeDefinition {
  id: number;
  /** The `type` field of the webhook envelope. */
  name: string;
  description: string;
  /** JSON Schema (draft 2020-12 subset understood by ajv) for the payload (`data`). */
  payloadSchema: Record<string, unknown>;
  example: Record<string, unknown>;
}

const boundedId = { type: 'string', minLength: 1, maxLength: 128 };
const shortText = { type: 'string', maxLength: 256 };

/** Every payload names exactly one process or simulation; anything else it carries is passed on as is. */
function payloadSchema(title: string, properties: Record<string, unknown>): Record<string, unknown> {
  return {
    title,
    type: 'object',
    properties: { processUniqueId: boundedId, simulationUniqueId: boundedId, ...properties },
    oneOf: [{ required: ['processUniqueId'] }, { required: ['simulationUniqueId'] }],
    additionalProperties: true,
  };
}

export const NOTIFICATION_TYPES: readonly NotificationTypeDefinition[] = [
  {
    id: 5,
    name: 'status.changed',
    description: 'A process or simulation changed status.',
    payloadSchema: payloadSchema('StatusChangedPayload', { status: shortText, previousStatus: shortText, changedAt: shortText }),
    example: { processUniqueId: 'PRC-2026-000123', status: 'approved', previousStatus: 'in_review', changedAt: '2026-11-26T10:00:00Z' },
  },
  {
    id: 6,
    name: 'message.created',
    description: 'A new message on a process or simulation.',
    payloadSchema: payloadSchema('MessageCreatedPayload', { messageId: shortText, author: shortText, createdAt: shortText }),
    example: { simulationUniqueId: 'SIM-2026-004567', messageId: 'MSG-991', author: 'Credit analyst', createdAt: '2026-11-26T10:05:00Z' },
  },
  {
    id: 7,
    name: 'document.available',
    description: 'A document (e.g. an ESIS sheet) is ready on a process or simulation.',
    payloadSchema: payloadSchema('DocumentAvailablePayload', { documentId: shortText, documentType: shortText, fileName: shortText }),
    example: { processUniqueId: 'PRC-2026-000123', documentId: 'DOC-77', documentType: 'ESIS', fileName: 'esis.pdf' },
  },
];

export const SUPPORTED_NOTIFICATION_TYPE_IDS: readonly number[] = NOTIFICATION_TYPES.map((type) => type.id);

export function findNotificationType(id: number): NotificationTypeDefinition | undefined {
  return NOTIFICATION_TYPES.find((type) => type.id === id);
}

export function notificationTypeName(id: number): string {
  const type = findNotificationType(id);
  if (!type) throw new Error(`notification type ${id} is not in the catalog`);
  return type.name;
}

/** The `detail` of every "unsupported type" error, so partners learn what they may use. */
export function unsupportedNotificationTypeDetail(given: unknown): string {
  return `notification type ${JSON.stringify(given)} is not supported; supported types are ${NOTIFICATION_TYPES.map((t) => `${t.id} (${t.name})`).join(', ')}`;
}
