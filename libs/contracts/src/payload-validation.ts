import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { FieldError } from './field-error';
import { NOTIFICATION_TYPES } from './notification-types';

/** Keys that could reach an object's prototype if a consumer merged the payload into an object. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
export const MAX_PAYLOAD_DEPTH = 16;

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
const validators = new Map<number, ValidateFunction>(NOTIFICATION_TYPES.map((type) => [type.id, ajv.compile(type.payloadSchema)]));

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function joinPath(prefix: string, key: string): string {
  return prefix ? `${prefix}.${key}` : key;
}

/** Walks the payload once for shape problems JSON Schema cannot express. */
function structuralErrors(value: unknown, path: string, depth: number, errors: FieldError[]): void {
  if (errors.length > 0) return;
  if (depth > MAX_PAYLOAD_DEPTH) {
    errors.push({ field: path, message: `is nested deeper than ${MAX_PAYLOAD_DEPTH} levels` });
    return;
  }
  const entries = Array.isArray(value) ? value.map((item, index) => [String(index), item] as const) : isPlainObject(value) ? Object.entries(value) : [];
  for (const [key, child] of entries) {
    if (!Array.isArray(value) && FORBIDDEN_KEYS.has(key)) {
      errors.push({ field: joinPath(path, key), message: 'is a reserved key' });
      return;
    }
    structuralErrors(child, joinPath(path, key), depth + 1, errors);
  }
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
  const errors: FieldError[] = [];
  structuralErrors(payload, prefix, 0, errors);
  if (errors.length > 0) return errors;
  if (validate(payload)) return [];
  const seen = new Set<string>();
  return (validate.errors ?? [])
    .filter((error) => error.keyword !== 'required' || error.schemaPath.startsWith('#/required'))
    .map((error) => schemaError(error, payload, prefix))
    .filter((error) => !seen.has(error.field + error.message) && seen.add(error.field + error.message));
}
