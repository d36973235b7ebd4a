import type { DataSource } from 'typeorm';
import { callbackHeadersNeedReencryption, openCallbackHeaders, sealCallbackHeaders, type SecretCipher } from '@callbacks/signing';

interface SecretRow {
  id: string;
  signing_secret_encrypted: string;
  previous_signing_secret_encrypted: string | null;
  headers: Record<string, string>;
  headers_encrypted: string | null;
}

/**
 * Moves every signing secret and every callback's custom headers to the current
 * SECRETS_ENCRYPTION_KEY; headers still stored in plaintext (written before they were encrypted)
 * are encrypted too. Run it after deploying a new key with the old one in
 * SECRETS_ENCRYPTION_KEY_PREVIOUS; once it reports 0 left, drop the old key. Each row is updated
 * only if it still holds what was read, so it is safe beside a running system.
 */
export async function reencryptSecrets(dataSource: DataSource, cipher: SecretCipher): Promise<{ rows: number; reencrypted: number }> {
  const rows = (await dataSource.query(
    'SELECT id, signing_secret_encrypted, previous_signing_secret_encrypted, headers, headers_encrypted FROM callbacks',
  )) as SecretRow[];
  let reencrypted = 0;
  for (const row of rows) {
    const storedHeaders = { headers: row.headers, headersEncrypted: row.headers_encrypted };
    const stale =
      [row.signing_secret_encrypted, row.previous_signing_secret_encrypted].some(
        (stored) => stored !== null && cipher.needsReencryption(stored),
      ) || callbackHeadersNeedReencryption(cipher, storedHeaders);
    if (!stale) continue;
    const current = cipher.encrypt(cipher.decrypt(row.signing_secret_encrypted));
    const previous =
      row.previous_signing_secret_encrypted === null ? null : cipher.encrypt(cipher.decrypt(row.previous_signing_secret_encrypted));
    const headers = sealCallbackHeaders(cipher, openCallbackHeaders(cipher, storedHeaders));
    await dataSource.query(
      `UPDATE callbacks SET signing_secret_encrypted = $2, previous_signing_secret_encrypted = $3, headers = $4, headers_encrypted = $5
        WHERE id = $1 AND signing_secret_encrypted = $6 AND previous_signing_secret_encrypted IS NOT DISTINCT FROM $7
          AND headers = $8 AND headers_encrypted IS NOT DISTINCT FROM $9`,
      [
        row.id,
        current,
        previous,
        JSON.stringify(headers.headers),
        headers.headersEncrypted,
        row.signing_secret_encrypted,
        row.previous_signing_secret_encrypted,
        JSON.stringify(row.headers),
        row.headers_encrypted,
      ],
    );
    reencrypted++;
  }
  return { rows: rows.length, reencrypted };
}
