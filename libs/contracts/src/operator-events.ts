import type { CallbackRef } from './callback-ref';
import { ISO_TIME_EXAMPLE, NOTIFICATION_ID_EXAMPLE, PARTNER_ID_EXAMPLE } from './dto/api-property-helpers';

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

/** The callback was disabled automatically: after CALLBACK_DISABLE_AFTER of failures, or at once by a 410 Gone. */
export interface CallbackDisabledData extends OperatorEventCallback {
  callbackUrl: string;
  /** Why: "failing" (CALLBACK_DISABLE_AFTER of failures) or "gone" (the endpoint answered 410). */
  disabledReason: 'failing' | 'gone';
  /** The first failure of the streak (for "gone", at the latest the 410 answer). */
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

const uuid = { type: 'string', format: 'uuid' };
const time = { type: 'string', format: 'date-time' };
const callbackRefProperties = {
  partnerUniqueId: { ...uuid, description: 'The partner whose callback the event is about.' },
  notificationTypeId: { type: 'integer', description: "The callback's notification type." },
};

/** One operator event type: what it means and the JSON Schema (2020-12) of its `data` (the interfaces above). */
export interface OperatorEventDefinition {
  type: OperatorEventType;
  description: string;
  dataSchema: Record<string, unknown>;
  example: OperatorEventBody;
}

function dataSchema(properties: Record<string, unknown>): Record<string, unknown> {
  const all = { ...callbackRefProperties, ...properties };
  return { type: 'object', required: Object.keys(all), properties: all };
}

export const OPERATOR_EVENTS: readonly OperatorEventDefinition[] = [
  {
    type: 'notification.exhausted',
    description:
      'A notification ended failed. Coalesced per callback: at most one event per OPERATOR_EXHAUSTED_COALESCE (1 h) carrying `count` ' +
      'notifications; the other fields describe the latest one.',
    dataSchema: dataSchema({
      notificationId: { ...uuid, description: 'The latest notification that ended failed.' },
      statusReason: { type: 'string', description: 'Why it failed, e.g. retries_exhausted.' },
      statusCode: { type: ['integer', 'null'], description: "The last attempt's HTTP status, or null (no answer, or no attempt)." },
      error: { type: ['string', 'null'], description: "The last attempt's error kind (e.g. timeout), or null." },
      count: { type: 'integer', minimum: 1, description: 'How many notifications of the callback ended failed in this window.' },
    }),
    example: {
      type: 'notification.exhausted',
      timestamp: ISO_TIME_EXAMPLE,
      data: {
        partnerUniqueId: PARTNER_ID_EXAMPLE,
        notificationTypeId: 5,
        notificationId: NOTIFICATION_ID_EXAMPLE,
        statusReason: 'retries_exhausted',
        statusCode: 500,
        error: null,
        count: 3,
      },
    },
  },
  {
    type: 'callback.disabled',
    description:
      'A callback was disabled automatically: every attempt to it failed for CALLBACK_DISABLE_AFTER (disabledReason "failing"), ' +
      'or its endpoint answered 410 Gone (disabledReason "gone", at once).',
    dataSchema: dataSchema({
      callbackUrl: { type: 'string', description: "The callback's URL." },
      disabledReason: { type: 'string', enum: ['failing', 'gone'], description: 'Why it was disabled.' },
      failingSince: { ...time, description: 'The first failure of the streak (for "gone", at the latest the 410 answer).' },
      failedNotifications: {
        type: 'integer',
        minimum: 0,
        description: 'Its pending notifications, which ended failed (statusReason callback_disabled).',
      },
    }),
    example: {
      type: 'callback.disabled',
      timestamp: ISO_TIME_EXAMPLE,
      data: {
        partnerUniqueId: PARTNER_ID_EXAMPLE,
        notificationTypeId: 5,
        callbackUrl: 'https://partner.example.com/webhooks/partner-callbacks',
        disabledReason: 'failing',
        failingSince: '2026-11-21T09:58:00.000Z',
        failedNotifications: 12,
      },
    },
  },
  {
    type: 'callback.recovered',
    description: "The first success after the callback's circuit had opened.",
    dataSchema: dataSchema({
      callbackUrl: { type: 'string', description: "The callback's URL." },
      circuitOpenedAt: { ...time, description: 'When the circuit opened.' },
      recoveredAt: { ...time, description: 'The successful attempt.' },
    }),
    example: {
      type: 'callback.recovered',
      timestamp: ISO_TIME_EXAMPLE,
      data: {
        partnerUniqueId: PARTNER_ID_EXAMPLE,
        notificationTypeId: 5,
        callbackUrl: 'https://partner.example.com/webhooks/partner-callbacks',
        circuitOpenedAt: '2026-11-26T09:30:00.000Z',
        recoveredAt: ISO_TIME_EXAMPLE,
      },
    },
  },
];

/** The JSON Schema (2020-12) of an operator event's body (OperatorEventBody). */
export function operatorEventSchema(event: OperatorEventDefinition): Record<string, unknown> {
  return {
    description: `${event.description} For operators: POSTed to OPERATOR_WEBHOOK_URL.`,
    type: 'object',
    required: ['type', 'timestamp', 'data'],
    properties: {
      type: { type: 'string', const: event.type },
      timestamp: { ...time, description: 'When the event happened (a coalesced event: its first notification).' },
      data: event.dataSchema,
    },
    examples: [event.example],
  };
}
