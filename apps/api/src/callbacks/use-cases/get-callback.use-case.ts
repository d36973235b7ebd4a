import { Injectable } from '@nestjs/common';
import type { CallbackDto } from '@callbacks/contracts';
import { CallbackLookup } from '../callback-lookup';
import { toCallbackDto } from '../callback.mapper';

@Injectable()
export class GetCallback {
  constructor(private readonly lookup: CallbackLookup) {}

  async execute(partnerId: string, notificationTypeId: number): Promise<CallbackDto> {
    return toCallbackDto(await this.lookup.require(partnerId, notificationTypeId));
  }
}
