import type { FieldError } from './field-error';

/** Stable, machine-readable error codes (the `code` of every problem+json response). */
export const ERROR_CODES = [
  'validation_failed',
  'malformed_json',
  'payload_too_large',
  'payload_too_complex',
  'idempotency_key_reused',
  'unsupported_media_type',
  'invalid_partner_id',
  'unsupported_notification_type',
  'unauthorized',
  'forbidden',
  'portal_session_not_allowed',
  'partner_not_found',
  'api_key_not_found',
  'callback_not_found',
  // The callback signs with hmac only: it has no public key.
  'public_key_not_found',
  'notification_not_found',
  'callback_disabled',
  'recovery_window_too_large',
  'route_not_found',
  'method_not_allowed',
  'rate_limited',
  'service_unavailable',
  // Intake backpressure (503 with Retry-After): the intake queue is full, or the commit passed INTAKE_TIMEOUT_MS.
  'intake_queue_full',
  'intake_timeout',
  'internal_error',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** RFC 9457 problem details, as every error response carries them. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  errors?: FieldError[];
  /** Extension members some problems carry (RFC 9457 section 3.2). */
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
