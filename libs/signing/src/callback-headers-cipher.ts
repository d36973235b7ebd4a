import type { SecretCipher } from './secret-cipher';

/**
 * A callback's custom headers as stored in PostgreSQL (columns `headers` jsonb and
 * `headers_encrypted` text). Their values are often tokens, so they are kept like signing secrets:
 * - `headersEncrypted` set: the whole name → value object, as JSON, encrypted with SecretCipher;
 *   it is the truth, and `headers` holds `{}`.
 * - `headersEncrypted` null: `headers` holds the plaintext object, as written before encryption
 *   (or `{}` for no headers). `secrets:reencrypt` encrypts such rows.
 */
export interface StoredCallbackHeaders {
  headers: Record<string, string> | null;
  headersEncrypted: string | null;
}

/** The stored form of `headers`; no headers at all need no ciphertext. */
export function sealCallbackHeaders(
  cipher: SecretCipher,
  headers: Record<string, string>,
): { headers: Record<string, string>; headersEncrypted: string | null } {
  return { headers: {}, headersEncrypted: Object.keys(headers).length === 0 ? null : cipher.encrypt(JSON.stringify(headers)) };
}

/** The plaintext headers of a stored callback, either form. Throws when the key cannot decrypt them. */
export function openCallbackHeaders(cipher: SecretCipher, stored: StoredCallbackHeaders): Record<string, string> {
  if (stored.headersEncrypted === null) return stored.headers ?? {};
  return JSON.parse(cipher.decrypt(stored.headersEncrypted)) as Record<string, string>;
}

/** True when the stored headers are plaintext or encrypted with a key other than the main one. */
export function callbackHeadersNeedReencryption(cipher: SecretCipher, stored: StoredCallbackHeaders): boolean {
  if (stored.headersEncrypted === null) return Object.keys(stored.headers ?? {}).length > 0;
  return cipher.needsReencryption(stored.headersEncrypted);
}
