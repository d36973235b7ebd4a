import { type CallbackDto, type CallbackHealth, notificationTypeName } from '@callbacks/contracts';
import type { CallbackEntity } from '@callbacks/persistence';

/** `headers` are the callback's custom headers in plaintext (the entity holds them encrypted). */
export function toCallbackDto(callback: CallbackEntity, health: CallbackHealth, headers: Record<string, string>): CallbackDto {
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
    createdAt: callback.createdAt.toISOString(),
    updatedAt: callback.updatedAt.toISOString(),
  };
}
