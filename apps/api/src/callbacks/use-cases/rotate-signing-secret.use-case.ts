import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { RotatedSigningKeysDto } from '@callbacks/contracts';
import { CallbackRepository } from '@callbacks/persistence';
import { generateEd25519KeyPair, generateSigningSecret } from '@callbacks/signing';
import { type AuditOrigin, AuditTrail } from '../../audit/audit-trail';
import { SecretVault } from '../../common/secret-vault';
import { CallbackLookup, callbackNotFound } from '../callback-lookup';

/** How long the replaced secret (or ed25519 key) keeps signing alongside the new one. */
export const PREVIOUS_SECRET_GRACE_MS = 24 * 60 * 60 * 1000;

/**
 * A new signing secret; the current one becomes the previous one and every delivery carries
 * signatures under both for 24 hours. Rotating again inside that window retires the older one.
 * The current secret moves to "previous" inside the UPDATE itself: two rotations at once queue on
 * the row, and the second keeps the first's secret as its previous one instead of losing it.
 * A callback that signs with ed25519 (alone or beside hmac) gets a new key pair in the same way and
 * the same statement: a rotation replaces every key the callback signs with. The HMAC secret is
 * rotated even for an ed25519-only callback, so that switching back to hmac never revives an old one.
 */
@Injectable()
export class RotateSigningSecret {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditTrail,
    private readonly lookup: CallbackLookup,
    private readonly vault: SecretVault,
    private readonly callbacks: CallbackRepository,
  ) {}

  async execute(partnerId: string, notificationTypeId: number, origin: AuditOrigin): Promise<RotatedSigningKeysDto> {
    const callback = await this.lookup.require(partnerId, notificationTypeId);
    const signingSecret = generateSigningSecret();
    const keyPair = generateEd25519KeyPair();
    const previousExpiresAt = new Date(Date.now() + PREVIOUS_SECRET_GRACE_MS);
    const scheme = await this.dataSource.transaction(async (manager) => {
      const rotated = await this.callbacks.rotateSecret(
        callback.id,
        {
          signingSecretEncrypted: this.vault.seal(signingSecret),
          ed25519SecretKeyEncrypted: this.vault.seal(keyPair.secretKey),
          ed25519PublicKey: keyPair.publicKey,
          previousExpiresAt,
        },
        manager,
      );
      if (rotated === null) throw callbackNotFound(partnerId, notificationTypeId);
      await this.audit.record(
        origin,
        {
          action: 'signing_secret_rotated',
          partnerId,
          target: `notification_type:${notificationTypeId}`,
          details: { signatureScheme: rotated, previousValidUntil: previousExpiresAt.toISOString() },
        },
        manager,
      );
      return rotated;
    });
    return scheme === 'hmac' ? { signingSecret } : { signingSecret, publicKey: keyPair.publicKey };
  }
}
