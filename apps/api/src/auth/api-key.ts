import { createHash, timingSafeEqual } from 'node:crypto';
import type { CredentialMac } from './credential-mac';

const KEY_PREFIX = 'pck_';
const DISPLAY_PREFIX_LENGTH = 12;
/** Keys issued before issue 18 carry no MAC: `pck_` and 43 characters. They keep working. */
const LEGACY_KEY = /^pck_[A-Za-z0-9_-]{43}$/;

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

/** `pck_`, 256 random bits and their MAC (CredentialMac). */
export function generateApiKey(mac: CredentialMac): NewApiKey {
  const apiKey = KEY_PREFIX + mac.generate('api-key');
  return { apiKey, keyHash: hashApiKey(apiKey), keyPrefix: apiKey.slice(0, DISPLAY_PREFIX_LENGTH) };
}

/** What a presented key can be without asking the database: ours (a valid MAC), an old-format key, or neither. */
export function apiKeyShape(mac: CredentialMac, key: string): 'issued' | 'legacy' | 'forged' {
  if (key.startsWith(KEY_PREFIX) && mac.verify('api-key', key.slice(KEY_PREFIX.length))) return 'issued';
  return LEGACY_KEY.test(key) ? 'legacy' : 'forged';
}

/** Compares two secrets in time that does not depend on where they differ (or on their lengths). */
export function secretsEqual(given: string, expected: string): boolean {
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());
}
