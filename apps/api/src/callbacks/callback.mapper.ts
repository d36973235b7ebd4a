import { type CallbackDto, notificationTypeName } from '@callbacks/contracts';
import type { CallbackEntity } from '@callbacks/persistence';

export function toCallbackDto(callback: CallbackEntity): CallbackDto {
  return {
    partnerUniqueId: callback.partnerId,
    notificationTypeId: callback.notificationTypeId,
    notificationType: notificationTypeName(callback.notificationTypeId),
    callbackUrl: callback.callbackUrl,
    headers: callback.headers,
    enabled: callback.enabled,
    createdAt: callback.createdAt.toISOString(),
    updatedAt: callback.updatedAt.toISOString(),
  };
}
