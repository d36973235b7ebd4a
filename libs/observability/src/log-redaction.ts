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
];
