import { registerDecorator, type ValidationOptions } from 'class-validator';

export const MAX_CALLBACK_HEADERS = 20;
export const MAX_CALLBACK_HEADER_VALUE_LENGTH = 1024;
/** Header names the service sets itself on every delivery; a callback may not override them. */
const SET_BY_SERVICE = new Set(['content-type', 'content-length', 'host', 'user-agent']);
/**
 * Headers about the connection itself, which the HTTP client (undici) owns: it refuses to send
 * Expect, Keep-Alive, Transfer-Encoding and Upgrade at all, and Connection would change how it
 * reuses sockets. Accepting one at registration would make every attempt fail.
 */
const CONNECTION_LEVEL = new Set(['connection', 'expect', 'keep-alive', 'transfer-encoding', 'upgrade']);
/** RFC 9110 token, the only characters a header name may have (undici checks the same). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
/**
 * What a header value may hold, exactly as undici checks it before sending: HTAB, visible ASCII,
 * space, and obs-text (U+0080–U+00FF, sent as one Latin-1 byte each). No CR, LF, NUL or other
 * control characters, and nothing above U+00FF.
 */
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** What is wrong with a callback's custom headers; `header` names the one at fault, when there is one. */
export interface CallbackHeadersProblem {
  header: string | null;
  message: string;
}

/** What is wrong with a callback's custom headers, or null. */
export function callbackHeadersProblem(value: unknown): CallbackHeadersProblem | null {
  const whole = (message: string) => ({ header: null, message });
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return whole('must be an object of header names to string values');
  const entries = Object.entries(value);
  if (entries.length > MAX_CALLBACK_HEADERS) return whole(`at most ${MAX_CALLBACK_HEADERS} headers`);
  const seen = new Set<string>();
  for (const [name, headerValue] of entries) {
    if (!TOKEN.test(name)) return whole(`"${name.slice(0, 64)}" is not a valid header name (1 to 128 letters, digits or !#$%&'*+-.^_\`|~)`);
    const problem = (message: string) => ({ header: name, message });
    const lower = name.toLowerCase();
    if (SET_BY_SERVICE.has(lower) || lower.startsWith('webhook-')) return problem('is set by the service and cannot be overridden');
    if (CONNECTION_LEVEL.has(lower)) return problem('is about the connection, which the HTTP client manages; it cannot be sent');
    if (seen.has(lower)) return problem('is given twice (header names are case-insensitive)');
    seen.add(lower);
    if (typeof headerValue !== 'string') return problem('must be a string');
    if (headerValue.length > MAX_CALLBACK_HEADER_VALUE_LENGTH)
      return problem(`is longer than ${MAX_CALLBACK_HEADER_VALUE_LENGTH} characters`);
    if (!VALUE.test(headerValue))
      return problem('contains control characters or characters above U+00FF, which an HTTP header cannot carry');
  }
  return null;
}

/**
 * class-validator decorator for callbackHeadersProblem. A problem with one header is reported on
 * the field "<property>.<header name>" (the validation pipe reads the path from the message).
 */
export function IsCallbackHeaders(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isCallbackHeaders',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => callbackHeadersProblem(value) === null,
        defaultMessage: (args) => {
          const problem = callbackHeadersProblem(args?.value);
          if (!problem) return 'is invalid';
          return problem.header === null
            ? problem.message
            : `${args?.property ?? String(propertyName)}.${problem.header} ${problem.message}`;
        },
      },
    });
}
