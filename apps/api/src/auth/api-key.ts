import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY_PREFIX = 'pck_';
const DISPLAY_PREFIX_LENGTH = 12;

export interface NewApiKey {
  /** The key itself: returned to the caller once and never stored. */
  apiKey: string;
  keyHash: string;
  keyPrefix: string;
}

/** SHA-256 is enough for a key with 256 bits of entropy: there is nothing to brute-force. */
export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey, 'utf8').digest('hex');
}

export function generateApiKey(): NewApiKey {
  const apiKey = KEY_PREFIX + randomBytes(32).toString('base64url');
  return { apiKey, keyHash: hashApiKey(apiKey), keyPrefix: apiKey.slice(0, DISPLAY_PREFIX_LENGTH) };
}

/** Compares two secrets in time that does not depend on where they differ (or on their lengths). */
export function secretsEqual(given: string, expected: string): boolean {
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());
}
