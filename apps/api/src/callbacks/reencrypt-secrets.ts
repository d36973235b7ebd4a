import type { DataSource } from 'typeorm';
import type { SecretCipher } from '@callbacks/signing';

interface SecretRow {
  id: string;
  signing_secret_encrypted: string;
  previous_signing_secret_encrypted: string | null;
}

/**
 * Moves every signing secret to the current SECRETS_ENCRYPTION_KEY. Run it after deploying a new
 * key with the old one in SECRETS_ENCRYPTION_KEY_PREVIOUS; once it reports 0 left, drop the old key.
 * Each row is updated only if it still holds what was read, so it is safe beside a running system.
 */
export async function reencryptSecrets(dataSource: DataSource, cipher: SecretCipher): Promise<{ rows: number; reencrypted: number }> {
  const rows = (await dataSource.query('SELECT id, signing_secret_encrypted, previous_signing_secret_encrypted FROM callbacks')) as SecretRow[];
  let reencrypted = 0;
  for (const row of rows) {
    const stale = [row.signing_secret_encrypted, row.previous_signing_secret_encrypted].some((stored) => stored !== null && cipher.needsReencryption(stored));
    if (!stale) continue;
    const current = cipher.encrypt(cipher.decrypt(row.signing_secret_encrypted));
    const previous = row.previous_signing_secret_encrypted === null ? null : cipher.encrypt(cipher.decrypt(row.previous_signing_secret_encrypted));
    await dataSource.query(
      `UPDATE callbacks SET signing_secret_encrypted = $2, previous_signing_secret_encrypted = $3
        WHERE id = $1 AND signing_secret_encrypted = $4 AND previous_signing_secret_encrypted IS NOT DISTINCT FROM $5`,
      [row.id, current, previous, row.signing_secret_encrypted, row.previous_signing_secret_encrypted],
    );
    reencrypted++;
  }
  return { rows: rows.length, reencrypted };
}
