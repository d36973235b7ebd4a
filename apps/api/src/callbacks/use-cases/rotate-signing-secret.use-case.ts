import { Injectable } from '@nestjs/common';
import type { SigningSecretDto } from '@callbacks/contracts';
import { CallbackRepository } from '@callbacks/persistence';
import { generateSigningSecret } from '@callbacks/signing';
import { SecretVault } from '../../common/secret-vault';
import { CallbackLookup, callbackNotFound } from '../callback-lookup';

/** How long the replaced secret keeps signing alongside the new one. */
export const PREVIOUS_SECRET_GRACE_MS = 24 * 60 * 60 * 1000;

/**
 * A new signing secret; the current one becomes the previous one and every delivery carries
 * signatures under both for 24 hours. Rotating again inside that window retires the older one.
 * The current secret moves to "previous" inside the UPDATE itself: two rotations at once queue on
 * the row, and the second keeps the first's secret as its previous one instead of losing it.
 */
@Injectable()
export class RotateSigningSecret {
  constructor(
    private readonly lookup: CallbackLookup,
    private readonly vault: SecretVault,
    private readonly callbacks: CallbackRepository,
  ) {}

  async execute(partnerId: string, notificationTypeId: number): Promise<SigningSecretDto> {
    const callback = await this.lookup.require(partnerId, notificationTypeId);
    const signingSecret = generateSigningSecret();
    const rotated = await this.callbacks.rotateSecret(
      callback.id,
      this.vault.seal(signingSecret),
      new Date(Date.now() + PREVIOUS_SECRET_GRACE_MS),
    );
    if (!rotated) throw callbackNotFound(partnerId, notificationTypeId);
    return { signingSecret };
  }
}
