import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { CallbackEntity } from '@callbacks/persistence';
import { CallbackLookup } from '../callback-lookup';

/** Deleting stops further deliveries at once: the worker reads the callback before every attempt. */
@Injectable()
export class DeleteCallback {
  constructor(
    private readonly lookup: CallbackLookup,
    @InjectRepository(CallbackEntity) private readonly callbacks: Repository<CallbackEntity>,
  ) {}

  async execute(partnerId: string, notificationTypeId: number): Promise<void> {
    const callback = await this.lookup.require(partnerId, notificationTypeId);
    await this.callbacks.delete({ id: callback.id });
  }
}
