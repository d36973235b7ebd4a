/**
 * pino redact paths for both apps: credentials, API keys, signing secrets and the custom header
 * values partners register (they often carry their own tokens) never reach a log line. Code logs
 * ids, never callbacks or request bodies; these paths are the safety net.
 */
export const LOG_REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  'res.headers["set-cookie"]',
  '*.apiKey',
  '*.signingSecret',
  '*.secret',
  '*.password',
  '*.callbackHeaders',
  // Transport credentials: an OAuth2 client secret or access token, an ed25519 private key.
  '*.clientSecret',
  '*.accessToken',
  '*.secretKey',
  '*.privateKey',
];

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
