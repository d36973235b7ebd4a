import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { RotatedSigningKeysDto, SignatureScheme } from '@callbacks/contracts';
import { generateEd25519KeyPair, generateSigningSecret } from '@callbacks/signing';
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
    private readonly lookup: CallbackLookup,
    private readonly vault: SecretVault,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async execute(partnerId: string, notificationTypeId: number): Promise<RotatedSigningKeysDto> {
    const callback = await this.lookup.require(partnerId, notificationTypeId);
    const signingSecret = generateSigningSecret();
    const keyPair = generateEd25519KeyPair();
    const [rows] = (await this.dataSource.query(
      `UPDATE callbacks
          SET previous_signing_secret_encrypted = signing_secret_encrypted, signing_secret_encrypted = $2,
              previous_secret_expires_at = $3, updated_at = now(),
              previous_ed25519_secret_key_encrypted = CASE WHEN signature_scheme = 'hmac' THEN previous_ed25519_secret_key_encrypted ELSE ed25519_secret_key_encrypted END,
              previous_ed25519_public_key = CASE WHEN signature_scheme = 'hmac' THEN previous_ed25519_public_key ELSE ed25519_public_key END,
              previous_ed25519_expires_at = CASE WHEN signature_scheme = 'hmac' THEN previous_ed25519_expires_at ELSE $3 END,
              ed25519_secret_key_encrypted = CASE WHEN signature_scheme = 'hmac' THEN ed25519_secret_key_encrypted ELSE $4 END,
              ed25519_public_key = CASE WHEN signature_scheme = 'hmac' THEN ed25519_public_key ELSE $5 END
        WHERE id = $1
        RETURNING signature_scheme`,
      [
        callback.id,
        this.vault.seal(signingSecret),
        new Date(Date.now() + PREVIOUS_SECRET_GRACE_MS),
        this.vault.seal(keyPair.secretKey),
        keyPair.publicKey,
      ],
    )) as [Array<{ signature_scheme: SignatureScheme }>, number];
    if (rows.length === 0) throw callbackNotFound(partnerId, notificationTypeId);
    return rows[0].signature_scheme === 'hmac' ? { signingSecret } : { signingSecret, publicKey: keyPair.publicKey };
  }
}
