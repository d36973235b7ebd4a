import { Injectable } from '@nestjs/common';
import type { SigningSecretDto } from '@callbacks/contracts';
import { SecretVault } from '../../common/secret-vault';
import { CallbackLookup } from '../callback-lookup';

@Injectable()
export class GetSigningSecret {
  constructor(
    private readonly lookup: CallbackLookup,
    private readonly vault: SecretVault,
  ) {}

  async execute(partnerId: string, notificationTypeId: number): Promise<SigningSecretDto> {
    const callback = await this.lookup.require(partnerId, notificationTypeId);
    return { signingSecret: this.vault.open(callback.signingSecretEncrypted) };
  }
}
