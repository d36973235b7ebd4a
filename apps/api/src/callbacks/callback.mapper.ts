import { type CallbackDto, type CallbackHealth, notificationTypeName } from '@callbacks/contracts';
import type { CallbackEntity } from '@callbacks/persistence';

export function toCallbackDto(callback: CallbackEntity, health: CallbackHealth): CallbackDto {
  return {
    partnerUniqueId: callback.partnerId,
    notificationTypeId: callback.notificationTypeId,
    notificationType: notificationTypeName(callback.notificationTypeId),
    callbackUrl: callback.callbackUrl,
    headers: callback.headers,
    enabled: callback.enabled,
    health,
    createdAt: callback.createdAt.toISOString(),
    updatedAt: callback.updatedAt.toISOString(),
  };
}
