import { Injectable } from '@nestjs/common';
import { CallbackRepository } from '@callbacks/persistence';
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
    private readonly callbacks: CallbackRepository,
    private readonly health: CallbackHealthStore,
  ) {}

  async execute(partnerId: string, notificationTypeId: number): Promise<void> {
    const callback = await this.lookup.require(partnerId, notificationTypeId);
    await this.callbacks.delete(callback.id);
    await this.health.reset(partnerId, notificationTypeId);
  }
}
