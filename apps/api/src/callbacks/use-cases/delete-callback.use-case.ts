import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { CallbackEntity } from '@callbacks/persistence';
import { CallbackHealthStore } from '../callback-health.store';
import { CallbackLookup } from '../callback-lookup';

/**
 * Deleting stops further deliveries at once: the worker reads the callback before every attempt.
 * Its circuit goes with it, so a callback created again for the type starts closed.
 */
@Injectable()
export class DeleteCallback {
  constructor(
    private readonly lookup: CallbackLookup,
    @InjectRepository(CallbackEntity) private readonly callbacks: Repository<CallbackEntity>,
    private readonly health: CallbackHealthStore,
  ) {}

  async execute(partnerId: string, notificationTypeId: number): Promise<void> {
    const callback = await this.lookup.require(partnerId, notificationTypeId);
    await this.callbacks.delete({ id: callback.id });
    await this.health.reset(partnerId, notificationTypeId);
  }
}
