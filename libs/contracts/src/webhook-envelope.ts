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
  /** The payload exactly as the platform (or the echo caller) gave it. */
  data: Record<string, unknown>;
}

export const NOTIFICATION_STATUSES = ['pending', 'delivered', 'failed', 'skipped'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/** How a failed attempt ended when no HTTP status explains it. */
export const ATTEMPT_ERROR_KINDS = [
  'timeout',
  'connection_refused',
  'connection_reset',
  'dns',
  'tls',
  'blocked_address',
  'network',
] as const;
export type AttemptErrorKind = (typeof ATTEMPT_ERROR_KINDS)[number];
