/**
 * The notification-type catalog: the one place that names the types the platform sends.
 * Renaming a type is a one-line change here; the id is what partners register against.
 */
export interface NotificationTypeDefinition {
  id: number;
  /** The `type` field of the webhook envelope. */
  name: string;
  description: string;
  /**
   * JSON Schema (draft 2020-12) of the payload (`data`): this very object validates at intake and is
   * the OpenAPI document's component of the same name as its `title` (with `example` as its `examples`).
   */
  payloadSchema: Record<string, unknown> & { title: string };
  example: Record<string, unknown>;
}

const boundedId = { type: 'string', minLength: 1, maxLength: 128 };
const shortText = { type: 'string', maxLength: 256 };

/** Said in every payload schema's description: the rule its `oneOf` states. */
export const ONE_CASE_ID_RULE =
  'Exactly one of processUniqueId or simulationUniqueId (both, or neither, is a 400); any other field is passed on exactly as given.';

/** Every payload names exactly one process or simulation; anything else it carries is passed on as is. */
function payloadSchema(
  title: string,
  about: string,
  properties: Record<string, unknown>,
  example: Record<string, unknown>,
): NotificationTypeDefinition['payloadSchema'] {
  return {
    title,
    description: `${about} ${ONE_CASE_ID_RULE}`,
    examples: [example],
    type: 'object',
    properties: { processUniqueId: boundedId, simulationUniqueId: boundedId, ...properties },
    oneOf: [{ required: ['processUniqueId'] }, { required: ['simulationUniqueId'] }],
    additionalProperties: true,
  };
}

/** One catalog entry; its description and example also describe its payload schema. */
function notificationType(
  id: number,
  name: string,
  description: string,
  payload: { title: string; properties: Record<string, unknown>; example: Record<string, unknown> },
): NotificationTypeDefinition {
  return {
    id,
    name,
    description,
    payloadSchema: payloadSchema(payload.title, description, payload.properties, payload.example),
    example: payload.example,
  };
}

export const NOTIFICATION_TYPES: readonly NotificationTypeDefinition[] = [
  notificationType(5, 'status.changed', 'A process or simulation changed status.', {
    title: 'StatusChangedPayload',
    properties: { status: shortText, previousStatus: shortText, changedAt: shortText },
    example: { processUniqueId: 'PRC-2026-000123', status: 'approved', previousStatus: 'in_review', changedAt: '2026-11-26T10:00:00Z' },
  }),
  notificationType(6, 'message.created', 'A new message on a process or simulation.', {
    title: 'MessageCreatedPayload',
    properties: { messageId: shortText, author: shortText, createdAt: shortText },
    example: { simulationUniqueId: 'SIM-2026-004567', messageId: 'MSG-991', author: 'Credit analyst', createdAt: '2026-11-26T10:05:00Z' },
  }),
  notificationType(7, 'document.available', 'A document (e.g. an ESIS sheet) is ready on a process or simulation.', {
    title: 'DocumentAvailablePayload',
    properties: { documentId: shortText, documentType: shortText, fileName: shortText },
    example: { processUniqueId: 'PRC-2026-000123', documentId: 'DOC-77', documentType: 'ESIS', fileName: 'esis.pdf' },
  }),
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
