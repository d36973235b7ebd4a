import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;

/**
 * Encrypts secrets at rest with AES-256-GCM. The stored form is "v1.<iv>.<tag>.<ciphertext>"
 * (base64url parts), so a wrong key or a tampered row fails loudly instead of yielding garbage.
 * Extra keys are tried for decryption only, which lets `secrets:reencrypt` rotate the main key.
 */
export class SecretCipher {
  private readonly keys: readonly Buffer[];

  constructor(key: Buffer, decryptOnlyKeys: readonly Buffer[] = []) {
    for (const candidate of [key, ...decryptOnlyKeys]) {
      if (candidate.length !== 32) throw new Error('an AES-256 key is 32 bytes');
    }
    this.keys = [key, ...decryptOnlyKeys];
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0], iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), ciphertext]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  decrypt(stored: string): string {
    const [version, iv, tag, ciphertext] = stored.split('.');
    if (version !== VERSION || !iv || !tag || ciphertext === undefined) throw new Error('not an encrypted secret');
    for (const key of this.keys) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        // not this key: try the next one
      }
    }
    throw new Error('the secret cannot be decrypted with SECRETS_ENCRYPTION_KEY');
  }

  /** True when `stored` was encrypted with a key other than the main one. */
  needsReencryption(stored: string): boolean {
    try {
      new SecretCipher(this.keys[0]).decrypt(stored);
      return false;
    } catch {
      return true;
    }
  }
}
