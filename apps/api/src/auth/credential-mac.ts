import { Inject, Injectable } from '@nestjs/common';
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';

/** What a credential is for: a MAC made for one purpose never passes as another. */
export type CredentialPurpose = 'api-key' | 'portal-link' | 'portal-session';

const RANDOM_LENGTH = 43; // 32 random bytes, base64url
const MAC_LENGTH = 22; // 16 bytes of HMAC-SHA256, base64url
const BODY = new RegExp(`^([A-Za-z0-9_-]{${RANDOM_LENGTH}})([A-Za-z0-9_-]{${MAC_LENGTH}})$`);
const HKDF_INFO = 'partner-callbacks credential mac v1';

/**
 * Credentials we issue (API keys, portal sign-in links, session cookies) end in a MAC of their
 * random part, keyed by a secret derived (HKDF-SHA256) from SECRETS_ENCRYPTION_KEY. A forged or
 * mistyped credential is refused by this check alone, before any database query. MACs made under
 * a key now in SECRETS_ENCRYPTION_KEY_PREVIOUS still verify, so rotating the key does not cut off
 * the API keys issued before it (while the old key stays listed there).
 */
@Injectable()
export class CredentialMac {
  private readonly keys: Buffer[];

  constructor(@Inject(APP_CONFIG) config: Pick<AppConfig, 'secretsEncryptionKey' | 'previousSecretsEncryptionKeys'>) {
    this.keys = [config.secretsEncryptionKey, ...config.previousSecretsEncryptionKeys].map((key) =>
      Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), HKDF_INFO, 32)),
    );
  }

  /** 256 random bits, base64url, followed by their MAC. */
  generate(purpose: CredentialPurpose): string {
    const random = randomBytes(32).toString('base64url');
    return random + this.mac(this.keys[0], purpose, random).toString('base64url');
  }

  /** True when `body` is a credential this deployment issued for `purpose` (constant time in the MAC). */
  verify(purpose: CredentialPurpose, body: string): boolean {
    const match = BODY.exec(body);
    if (!match) return false;
    // Compared as text: decoding would ignore the last character's low 4 bits (22 characters carry
    // 132 bits for 128), so 16 spellings of each MAC would pass and cost a lookup each.
    const given = Buffer.from(match[2], 'latin1');
    return this.keys.some((key) => timingSafeEqual(given, Buffer.from(this.mac(key, purpose, match[1]).toString('base64url'), 'latin1')));
  }

  private mac(key: Buffer, purpose: CredentialPurpose, random: string): Buffer {
    return createHmac('sha256', key).update(`${purpose}:${random}`).digest().subarray(0, 16);
  }
}
