import { Injectable } from '@nestjs/common';
import type { PublicKeyDto } from '@callbacks/contracts';
import { DomainError } from '../../common/domain-error';
import { CallbackLookup } from '../callback-lookup';

/** The ed25519 public key that verifies a callback's v1a signatures, and the previous one while it still signs. */
@Injectable()
export class GetPublicKey {
  constructor(private readonly lookup: CallbackLookup) {}

  async execute(partnerId: string, notificationTypeId: number): Promise<PublicKeyDto> {
    const callback = await this.lookup.require(partnerId, notificationTypeId);
    if (callback.signatureScheme === 'hmac' || !callback.ed25519PublicKey) {
      throw DomainError.notFound(
        'public_key_not_found',
        `the callback for notification type ${notificationTypeId} signs with hmac only; PUT it with "signature": "ed25519" or "both" for a public key`,
      );
    }
    const previousSigns =
      callback.previousEd25519PublicKey && callback.previousEd25519ExpiresAt && callback.previousEd25519ExpiresAt.getTime() > Date.now();
    return previousSigns
      ? { publicKey: callback.ed25519PublicKey, previousPublicKey: callback.previousEd25519PublicKey! }
      : { publicKey: callback.ed25519PublicKey };
  }
}
