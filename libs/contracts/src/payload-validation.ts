import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { FieldError } from './field-error';
import { NOTIFICATION_TYPES } from './notification-types';

import { inspectJson } from './json-inspection';

export const MAX_PAYLOAD_DEPTH = 16;

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
const validators = new Map<number, ValidateFunction>(NOTIFICATION_TYPES.map((type) => [type.id, ajv.compile(type.payloadSchema)]));

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function joinPath(prefix: string, key: string): string {
  return prefix ? `${prefix}.${key}` : key;
}

function schemaError(error: ErrorObject, payload: Record<string, unknown>, prefix: string): FieldError {
  if (error.keyword === 'oneOf' && error.instancePath === '') {
    const both = payload.processUniqueId !== undefined && payload.simulationUniqueId !== undefined;
    return {
      field: joinPath(prefix, 'processUniqueId'),
      message: both
        ? 'give exactly one of processUniqueId or simulationUniqueId, not both'
        : 'give exactly one of processUniqueId or simulationUniqueId; neither was given',
    };
  }
  const path = error.instancePath.split('/').slice(1).join('.');
  return { field: path ? joinPath(prefix, path) : prefix || 'body', message: error.message ?? 'is invalid' };
}

/**
 * Checks a payload against its type's schema. `prefix` names where the payload sits in the request
 * ("payload" in a platform event, "" when the body is the payload). Returns [] when it is valid.
 */
export function validateNotificationPayload(notificationTypeId: number, payload: unknown, prefix = ''): FieldError[] {
  const validate = validators.get(notificationTypeId);
  if (!validate) throw new Error(`notification type ${notificationTypeId} is not in the catalog`);
  if (!isPlainObject(payload)) return [{ field: prefix || 'body', message: 'must be a JSON object' }];
  const structural = inspectJson(payload, prefix, MAX_PAYLOAD_DEPTH + 1);
  if (structural) return [structural];
  if (validate(payload)) return [];
  const seen = new Set<string>();
  return (validate.errors ?? [])
    .filter((error) => error.keyword !== 'required' || error.schemaPath.startsWith('#/required'))
    .map((error) => schemaError(error, payload, prefix))
    .filter((error) => !seen.has(error.field + error.message) && seen.add(error.field + error.message));
}
