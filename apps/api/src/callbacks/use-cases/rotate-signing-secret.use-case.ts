import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { SigningSecretDto } from '@callbacks/contracts';
import { CallbackEntity } from '@callbacks/persistence';
import { generateSigningSecret } from '@callbacks/signing';
import { SecretVault } from '../../common/secret-vault';
import { CallbackLookup } from '../callback-lookup';

/** How long the replaced secret keeps signing alongside the new one. */
export const PREVIOUS_SECRET_GRACE_MS = 24 * 60 * 60 * 1000;

/**
 * A new signing secret; the current one becomes the previous one and every delivery carries
 * signatures under both for 24 hours. Rotating again inside that window retires the older one.
 */
@Injectable()
export class RotateSigningSecret {
  constructor(
    private readonly lookup: CallbackLookup,
    private readonly vault: SecretVault,
    @InjectRepository(CallbackEntity) private readonly callbacks: Repository<CallbackEntity>,
  ) {}

  async execute(partnerId: string, notificationTypeId: number): Promise<SigningSecretDto> {
    const callback = await this.lookup.require(partnerId, notificationTypeId);
    const signingSecret = generateSigningSecret();
    await this.callbacks.update(
      { id: callback.id },
      {
        signingSecretEncrypted: this.vault.seal(signingSecret),
        previousSigningSecretEncrypted: callback.signingSecretEncrypted,
        previousSecretExpiresAt: new Date(Date.now() + PREVIOUS_SECRET_GRACE_MS),
      },
    );
    return { signingSecret };
  }
}
