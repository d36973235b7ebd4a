import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import type { CallbackRef } from '@callbacks/contracts';
import { type DeliveryContext, DeliveryRepository } from '@callbacks/persistence';
import { callbackKeys } from '@callbacks/queue';
import type { SecretCipher } from '@callbacks/signing';
import type { DeliveryAuth } from '../dispatch/http-sender';
import { tokenFingerprint } from './oauth-token-cache';

/** CA certificates kept by their hash; each is read once per worker, not with every delivery. */
const CA_CERTIFICATES_KEPT = 256;

/** What a delivery to this callback needs beyond its URL and headers: the CA its endpoint chains to, and its OAuth2 credentials. */
export interface CallbackTransportSettings {
  caCertificate: string | null;
  auth: DeliveryAuth | null;
}

/**
 * Turns a loaded callback's transport settings into what the sender takes: the CA certificate PEM
 * (looked up by the hash that the delivery load returns, and kept), and the OAuth2 grant with its
 * client secret decrypted and the Redis slot its token is shared in.
 */
@Injectable()
export class CallbackTransport {
  private readonly caCertificates = new Map<string, string>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly deliveries: DeliveryRepository,
  ) {}

  async settings(
    ref: CallbackRef,
    callback: NonNullable<DeliveryContext['callback']>,
    cipher: SecretCipher,
  ): Promise<CallbackTransportSettings> {
    const caCertificate = callback.tlsCaHash ? await this.caCertificate(ref, callback.tlsCaHash) : null;
    if (!callback.auth || !callback.authClientSecretEncrypted) return { caCertificate, auth: null };
    const grant = {
      tokenUrl: callback.auth.tokenUrl,
      clientId: callback.auth.clientId,
      clientSecret: cipher.decrypt(callback.authClientSecretEncrypted),
      scope: callback.auth.scope,
      caCertificate,
    };
    const keys = callbackKeys(this.config, ref.partnerId, ref.notificationTypeId);
    return {
      caCertificate,
      auth: {
        grant,
        slot: {
          tokenKey: keys.oauthToken,
          lockKey: keys.oauthLock,
          fingerprint: tokenFingerprint(this.config.secretsEncryptionKey, grant),
        },
      },
    };
  }

  private async caCertificate(ref: CallbackRef, hash: string): Promise<string | null> {
    const kept = this.caCertificates.get(hash);
    if (kept) return kept;
    const pem = await this.deliveries.caCertificate(ref.partnerId, ref.notificationTypeId);
    // Changed by a PUT since the load: use what is there now, but keep a PEM only under its own hash.
    if (pem === null || createHash('md5').update(pem, 'utf8').digest('hex') !== hash) return pem;
    this.caCertificates.set(hash, pem);
    if (this.caCertificates.size > CA_CERTIFICATES_KEPT) this.caCertificates.delete(this.caCertificates.keys().next().value as string);
    return pem;
  }
}
