import type { CallbackRef } from './callback-ref';

/*
 * Operator events: what the service tells OPERATOR_WEBHOOK_URL about partners' callbacks, signed
 * with OPERATOR_WEBHOOK_SECRET (Standard Webhooks; webhook-id = the event's id).
 */
export const OPERATOR_EVENT_TYPES = ['notification.exhausted', 'callback.disabled', 'callback.recovered'] as const;
export type OperatorEventType = (typeof OPERATOR_EVENT_TYPES)[number];

/** Which callback an event is about, as its `data` names it (the wire's spelling). */
export interface OperatorEventCallback {
  partnerUniqueId: string;
  notificationTypeId: number;
}

/** The one conversion of a CallbackRef to the operator events' wire names. */
export function operatorEventCallback(callback: CallbackRef): OperatorEventCallback {
  return { partnerUniqueId: callback.partnerId, notificationTypeId: callback.notificationTypeId };
}

/**
 * A notification ended failed. Coalesced per callback: at most one event per
 * OPERATOR_EXHAUSTED_COALESCE (1 h), `count` notifications; the fields describe the latest one.
 */
export interface NotificationExhaustedData extends OperatorEventCallback {
  notificationId: string;
  statusReason: string;
  /** The last attempt's HTTP status, or null (no answer, or no attempt). */
  statusCode: number | null;
  /** The last attempt's error kind, or null. */
  error: string | null;
  count: number;
}

/** The callback was disabled automatically after CALLBACK_DISABLE_AFTER of failures. */
export interface CallbackDisabledData extends OperatorEventCallback {
  callbackUrl: string;
  failingSince: string;
  /** Its pending notifications that ended failed (statusReason callback_disabled). */
  failedNotifications: number;
}

/** The first success after the callback's circuit had opened. */
export interface CallbackRecoveredData extends OperatorEventCallback {
  callbackUrl: string;
  circuitOpenedAt: string;
  recoveredAt: string;
}

export interface OperatorEventDataByType {
  'notification.exhausted': NotificationExhaustedData;
  'callback.disabled': CallbackDisabledData;
  'callback.recovered': CallbackRecoveredData;
}

/** The JSON body POSTed to OPERATOR_WEBHOOK_URL. */
export interface OperatorEventBody<T extends OperatorEventType = OperatorEventType> {
  type: T;
  /** ISO-8601 time the event happened (a coalesced event: its first notification). */
  timestamp: string;
  data: OperatorEventDataByType[T];
}
