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
