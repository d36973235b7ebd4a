import {
  type CallbackDto,
  type CallbackHealth,
  type DeliveryPolicyBounds,
  notificationTypeName,
  resolveDeliveryPolicy,
  type StoredDeliveryPolicy,
} from '@callbacks/contracts';
import type { CallbackEntity } from '@callbacks/persistence';

export function storedDeliveryPolicy(callback: CallbackEntity): StoredDeliveryPolicy {
  return {
    ordering: callback.deliveryOrdering,
    maxInFlight: callback.deliveryMaxInFlight,
    ratePerSecond: callback.deliveryRatePerSecond,
    timeoutMs: callback.deliveryTimeoutMs,
  };
}

/**
 * `headers` are the callback's custom headers in plaintext (the entity holds them encrypted); `bounds`
 * the operator's delivery defaults and caps (the policy shown is the one in force).
 */
export function toCallbackDto(
  callback: CallbackEntity,
  health: CallbackHealth,
  headers: Record<string, string>,
  bounds: DeliveryPolicyBounds,
): CallbackDto {
  return {
    partnerUniqueId: callback.partnerId,
    notificationTypeId: callback.notificationTypeId,
    notificationType: notificationTypeName(callback.notificationTypeId),
    callbackUrl: callback.callbackUrl,
    headers,
    enabled: callback.enabled,
    disabledReason: callback.disabledReason,
    disabledAt: callback.disabledAt?.toISOString() ?? null,
    failingSince: callback.failingSince?.toISOString() ?? null,
    lastSuccessAt: callback.lastSuccessAt?.toISOString() ?? null,
    health,
    signature: callback.signatureScheme,
    tls: callback.tlsCaCertificate ? { caCertificate: callback.tlsCaCertificate } : null,
    auth: callback.auth
      ? { type: callback.auth.type, tokenUrl: callback.auth.tokenUrl, clientId: callback.auth.clientId, scope: callback.auth.scope }
      : null,
    delivery: resolveDeliveryPolicy(storedDeliveryPolicy(callback), bounds),
    createdAt: callback.createdAt.toISOString(),
    updatedAt: callback.updatedAt.toISOString(),
  };
}
