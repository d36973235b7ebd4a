import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { SigningSecretDto } from '@callbacks/contracts';
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
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async execute(partnerId: string, notificationTypeId: number): Promise<SigningSecretDto> {
    const callback = await this.lookup.require(partnerId, notificationTypeId);
    const signingSecret = generateSigningSecret();
    const [, rotated] = (await this.dataSource.query(
      `UPDATE callbacks
          SET previous_signing_secret_encrypted = signing_secret_encrypted, signing_secret_encrypted = $2,
              previous_secret_expires_at = $3, updated_at = now()
        WHERE id = $1`,
      [callback.id, this.vault.seal(signingSecret), new Date(Date.now() + PREVIOUS_SECRET_GRACE_MS)],
    )) as [unknown, number];
    if (rotated === 0) throw callbackNotFound(partnerId, notificationTypeId);
    return { signingSecret };
  }
}
