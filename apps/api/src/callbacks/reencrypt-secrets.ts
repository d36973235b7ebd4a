import type { CallbackRepository } from '@callbacks/persistence';
import { callbackHeadersNeedReencryption, openCallbackHeaders, sealCallbackHeaders, type SecretCipher } from '@callbacks/signing';

/**
 * Moves every signing secret and every callback's custom headers to the current
 * SECRETS_ENCRYPTION_KEY; headers still stored in plaintext (written before they were encrypted)
 * are encrypted too. Run it after deploying a new key with the old one in
 * SECRETS_ENCRYPTION_KEY_PREVIOUS; once it reports 0 left, drop the old key. Each row is updated
 * only if it still holds what was read, so it is safe beside a running system.
 */
export async function reencryptSecrets(
  callbacks: CallbackRepository,
  cipher: SecretCipher,
): Promise<{ rows: number; reencrypted: number }> {
  const rows = await callbacks.sealedSecrets();
  let reencrypted = 0;
  for (const row of rows) {
    const stale =
      [row.signingSecretEncrypted, row.previousSigningSecretEncrypted].some(
        (stored) => stored !== null && cipher.needsReencryption(stored),
      ) || callbackHeadersNeedReencryption(cipher, row);
    if (!stale) continue;
    const headers = sealCallbackHeaders(cipher, openCallbackHeaders(cipher, row));
    await callbacks.replaceSealedSecrets(row, {
      signingSecretEncrypted: cipher.encrypt(cipher.decrypt(row.signingSecretEncrypted)),
      previousSigningSecretEncrypted:
        row.previousSigningSecretEncrypted === null ? null : cipher.encrypt(cipher.decrypt(row.previousSigningSecretEncrypted)),
      headers: headers.headers,
      headersEncrypted: headers.headersEncrypted,
    });
    reencrypted++;
  }
  return { rows: rows.length, reencrypted };
}
