import { registerDecorator, type ValidationOptions } from 'class-validator';

export const MAX_CALLBACK_HEADERS = 20;
export const MAX_CALLBACK_HEADER_VALUE_LENGTH = 1024;
/** Header names the service sets itself on every delivery; a callback may not override them. */
const RESERVED_EXACT = new Set(['content-type', 'content-length', 'host', 'user-agent', 'connection', 'transfer-encoding']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;

/** What is wrong with a callback's custom headers, or null. */
export function callbackHeadersProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be an object of header names to string values';
  const entries = Object.entries(value);
  if (entries.length > MAX_CALLBACK_HEADERS) return `at most ${MAX_CALLBACK_HEADERS} headers`;
  const seen = new Set<string>();
  for (const [name, headerValue] of entries) {
    const lower = name.toLowerCase();
    if (!TOKEN.test(name)) return `"${name.slice(0, 64)}" is not a valid header name`;
    if (RESERVED_EXACT.has(lower) || lower.startsWith('webhook-')) return `"${name}" is set by the service and cannot be overridden`;
    if (seen.has(lower)) return `"${name}" is given twice`;
    seen.add(lower);
    if (typeof headerValue !== 'string') return `the value of "${name}" must be a string`;
    if (headerValue.length > MAX_CALLBACK_HEADER_VALUE_LENGTH) return `the value of "${name}" is longer than ${MAX_CALLBACK_HEADER_VALUE_LENGTH} characters`;
    if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(headerValue)) return `the value of "${name}" contains control characters`;
  }
  return null;
}

export function IsCallbackHeaders(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isCallbackHeaders',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => callbackHeadersProblem(value) === null,
        defaultMessage: (args) => callbackHeadersProblem(args?.value) ?? 'is invalid',
      },
    });
}
