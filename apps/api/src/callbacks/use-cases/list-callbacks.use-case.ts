import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, deliveryPolicyBounds } from '@callbacks/config';
import type { CallbackListDto } from '@callbacks/contracts';
import { CallbackRepository } from '@callbacks/persistence';
import { SecretVault } from '../../common/secret-vault';
import { PartnerLookup } from '../../partners/partner-lookup';
import { CallbackHealthStore } from '../callback-health.store';
import { toCallbackDto } from '../callback.mapper';

@Injectable()
export class ListCallbacks {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly partners: PartnerLookup,
    private readonly callbacks: CallbackRepository,
    private readonly health: CallbackHealthStore,
    private readonly vault: SecretVault,
  ) {}

  async execute(partnerId: string, offset: number, limit: number): Promise<CallbackListDto> {
    await this.partners.require(partnerId);
    const [callbacks, total] = await this.callbacks.listOfPartner(partnerId, offset, limit);
    const health = await this.health.read(callbacks);
    return {
      items: callbacks.map((callback, index) =>
        toCallbackDto(callback, health[index], this.vault.openHeaders(callback), deliveryPolicyBounds(this.config)),
      ),
      total,
    };
  }
}
