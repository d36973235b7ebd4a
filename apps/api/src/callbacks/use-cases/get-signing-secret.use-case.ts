import { Injectable } from '@nestjs/common';
import type { SigningSecretDto } from '@callbacks/contracts';
import { type AuditOrigin, AuditTrail } from '../../audit/audit-trail';
import { SecretVault } from '../../common/secret-vault';
import { CallbackLookup } from '../callback-lookup';

/** Reveals the signing secret; the reveal is audited (who saw it, never the secret) before it is answered. */
@Injectable()
export class GetSigningSecret {
  constructor(
    private readonly lookup: CallbackLookup,
    private readonly vault: SecretVault,
    private readonly audit: AuditTrail,
  ) {}

  async execute(partnerId: string, notificationTypeId: number, origin: AuditOrigin): Promise<SigningSecretDto> {
    const callback = await this.lookup.require(partnerId, notificationTypeId);
    const signingSecret = this.vault.open(callback.signingSecretEncrypted);
    await this.audit.record(origin, { action: 'signing_secret_revealed', partnerId, target: `notification_type:${notificationTypeId}` });
    return { signingSecret };
  }
}
