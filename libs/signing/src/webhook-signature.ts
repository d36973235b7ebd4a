import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';
const SECRET_BYTES = 32;
/** Receivers following Standard Webhooks reject timestamps further than this from their clock. */
export const TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;

/** A new signing secret: "whsec_" + base64 of 32 random bytes. */
export function generateSigningSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

function secretKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error('a signing secret starts with whsec_');
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
}

export interface SignedContent {
  /** The webhook-id header: our notification id. */
  id: string;
  /** The webhook-timestamp header: Unix seconds. */
  timestamp: number;
  /** The exact request body. */
  body: string;
}

function signature(secret: string, { id, timestamp, body }: SignedContent): string {
  return createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64');
}

/**
 * The webhook-signature header value: "v1,<base64 HMAC-SHA256>" for each secret, space-separated
 * (several during a secret rotation, newest first).
 */
export function signWebhook(secrets: readonly string[], content: SignedContent): string {
  if (secrets.length === 0) throw new Error('at least one signing secret is needed');
  if (content.id.includes('.')) throw new Error('a webhook id must not contain "."');
  return secrets.map((secret) => `v1,${signature(secret, content)}`).join(' ');
}

/**
 * Checks a webhook-signature header the way a receiver does: any one v1 signature made with
 * `secret` over the content, and a timestamp within the tolerance of `nowSeconds`.
 */
export function verifyWebhook(secret: string, header: string, content: SignedContent, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
  if (Math.abs(nowSeconds - content.timestamp) > TIMESTAMP_TOLERANCE_SECONDS) return false;
  const expected = Buffer.from(signature(secret, content));
  return header.split(' ').some((entry) => {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || value === undefined) return false;
    const candidate = Buffer.from(value);
    return candidate.length === expected.length && timingSafeEqual(candidate, expected);
  });
}
