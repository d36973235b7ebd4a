/**
 * pino redaction for both apps: credentials, API keys, signing secrets and header values never reach
 * a log line. Code logs ids, never callbacks or request bodies; this is the safety net, and it is
 * keyed on the field names the product's own objects use.
 */
export const LOG_REDACT_PATHS = [
  '*.apiKey',
  '*.signingSecret',
  '*.secret',
  '*.password',
  // Transport credentials: an OAuth2 client secret or access token, an ed25519 private key.
  '*.clientSecret',
  '*.accessToken',
  '*.secretKey',
  '*.privateKey',
  // Every `headers` object, value by value, at the depths a log call puts one: a callback's custom
  // headers (its entity and the API's callback body, `headers`) and an outgoing delivery's (the custom
  // headers and the signature) are often tokens. The request's and response's own headers have
  // their own paths (so that censorLogValue sees where they are: under a wildcard the first key is not
  // given), and censorLogValue keeps the few that are plainly harmless readable.
  'req.headers.*',
  'res.headers.*',
  'headers.*',
  '*.headers.*',
  '*.*.headers.*',
];

/**
 * The request's and response's headers that access logs keep; every other one (credentials, cookies,
 * idempotency keys, and whatever a caller invents) is redacted.
 */
const ACCESS_LOG_HEADERS = new Set([
  'accept',
  'accept-encoding',
  'connection',
  'content-length',
  'content-type',
  'host',
  'traceparent',
  'tracestate',
  'user-agent',
  'x-forwarded-for',
  'x-request-id',
]);

/** What a redacted value becomes: `[redacted]`, except an access-log header of the request or response being logged. */
export function censorLogValue(value: unknown, path: string[]): unknown {
  const [top, field, name] = path;
  const accessLogHeader = (top === 'req' || top === 'res') && field === 'headers' && path.length === 3;
  return accessLogHeader && ACCESS_LOG_HEADERS.has(name.toLowerCase()) ? value : '[redacted]';
}

/** pino's `redact` option for both apps. */
export const LOG_REDACTION = { paths: LOG_REDACT_PATHS, censor: censorLogValue };

const PORTAL_SIGN_IN = /(\/portal\/sign-in\/)[^/?#]*/;

/** A portal sign-in link carries its one-time token in the path: a credential until it is used. */
export function redactRequestUrl(url: string): string {
  return url.replace(PORTAL_SIGN_IN, '$1[redacted]');
}

/** pino-http's request serializer, after the standard one: the URL (and its route parameters) without sign-in tokens. */
export function redactRequestSerializer<T extends { url?: string; params?: unknown }>(request: T): T {
  if (typeof request.url === 'string' && PORTAL_SIGN_IN.test(request.url)) {
    request.url = redactRequestUrl(request.url);
    request.params = '[redacted]';
  }
  return request;
}
