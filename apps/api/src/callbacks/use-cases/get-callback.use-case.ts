import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, deliveryPolicyBounds } from '@callbacks/config';
import type { CallbackDto } from '@callbacks/contracts';
import { SecretVault } from '../../common/secret-vault';
import { CallbackHealthStore } from '../callback-health.store';
import { CallbackLookup } from '../callback-lookup';
import { toCallbackDto } from '../callback.mapper';

@Injectable()
export class GetCallback {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly lookup: CallbackLookup,
    private readonly health: CallbackHealthStore,
    private readonly vault: SecretVault,
  ) {}

  async execute(partnerId: string, notificationTypeId: number): Promise<CallbackDto> {
    const callback = await this.lookup.require(partnerId, notificationTypeId);
    const [health] = await this.health.read([callback]);
    return toCallbackDto(callback, health, this.vault.openHeaders(callback), deliveryPolicyBounds(this.config));
  }
}
