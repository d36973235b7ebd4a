import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { CallbackListDto } from '@callbacks/contracts';
import { CallbackEntity } from '@callbacks/persistence';
import { SecretVault } from '../../common/secret-vault';
import { PartnerLookup } from '../../partners/partner-lookup';
import { CallbackHealthStore } from '../callback-health.store';
import { toCallbackDto } from '../callback.mapper';

@Injectable()
export class ListCallbacks {
  constructor(
    private readonly partners: PartnerLookup,
    @InjectRepository(CallbackEntity) private readonly callbacks: Repository<CallbackEntity>,
    private readonly health: CallbackHealthStore,
    private readonly vault: SecretVault,
  ) {}

  async execute(partnerId: string, offset: number, limit: number): Promise<CallbackListDto> {
    await this.partners.require(partnerId);
    const [callbacks, total] = await this.callbacks.findAndCount({
      where: { partnerId },
      order: { notificationTypeId: 'ASC' },
      skip: offset,
      take: limit,
    });
    const health = await this.health.read(callbacks);
    return { items: callbacks.map((callback, index) => toCallbackDto(callback, health[index], this.vault.openHeaders(callback))), total };
  }
}
