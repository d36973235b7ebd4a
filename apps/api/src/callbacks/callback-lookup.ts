import { Injectable } from '@nestjs/common';
import { type CallbackEntity, CallbackRepository } from '@callbacks/persistence';
import { DomainError } from '../common/domain-error';
import { PartnerLookup } from '../partners/partner-lookup';

export function callbackNotFound(partnerId: string, notificationTypeId: number): DomainError {
  return DomainError.notFound('callback_not_found', `partner ${partnerId} has no callback for notification type ${notificationTypeId}`);
}

/** Finds a partner's callback for a type: 404 partner_not_found, then 404 callback_not_found. */
@Injectable()
export class CallbackLookup {
  constructor(
    private readonly partners: PartnerLookup,
    private readonly callbacks: CallbackRepository,
  ) {}

  async require(partnerId: string, notificationTypeId: number): Promise<CallbackEntity> {
    const callback = await this.callbacks.find({ partnerId, notificationTypeId });
    if (callback) return callback;
    await this.partners.require(partnerId);
    throw callbackNotFound(partnerId, notificationTypeId);
  }
}
