import type { AttemptErrorKind } from '@callbacks/contracts';

/** What the delivery log keeps of why a connection failed (a TLS reason, the proxy's answer). */
export const MAX_ERROR_DETAIL_LENGTH = 300;

/** A failed attempt's error kind, and for the kinds that need one, the reason in a line. */
export interface AttemptFailure {
  error: AttemptErrorKind;
  /** Set for tls_error, proxy_error and auth_error; never holds a secret (our own messages and OpenSSL's). */
  detail: string | null;
}

const TLS_ERROR =
  /^(ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(GET|VERIFY)_|HOSTNAME_MISMATCH|ERR_OSSL_)/;

interface ErrorLike {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  cause?: unknown;
}

/** The error and its causes, outermost first (undici and our connector wrap errors). */
function chain(error: unknown): ErrorLike[] {
  const errors: ErrorLike[] = [];
  for (let current = error as ErrorLike | undefined, depth = 0; current && typeof current === 'object' && depth < 4; depth++) {
    errors.push(current);
    current = current.cause as ErrorLike | undefined;
  }
  return errors;
}

function codesOf(errors: ErrorLike[]): string[] {
  return errors.flatMap((error) => [error.code, error.name].filter((value): value is string => typeof value === 'string'));
}

function line(error: ErrorLike, withCode: boolean): string {
  let message = typeof error.message === 'string' ? error.message.trim() : '';
  // OpenSSL's "40FD…:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:…/rec_layer_s3.c:918:SSL alert number 116"
  const openssl = /:([^:]+):[^:]*\.c:\d+:?(.*)$/.exec(message);
  if (openssl) message = openssl[2] ? `${openssl[1]} (${openssl[2]})` : openssl[1];
  const text = withCode && typeof error.code === 'string' && !message.includes(error.code) ? `${error.code}: ${message}` : message;
  return text.replace(/\s+/g, ' ').slice(0, MAX_ERROR_DETAIL_LENGTH);
}

/** Names a failed attempt by what went wrong, for the delivery log and metrics. */
export function classifyError(error: unknown): AttemptFailure {
  const errors = chain(error);
  const codes = codesOf(errors);
  const has = (...wanted: string[]) => codes.some((code) => wanted.includes(code));
  const find = (code: string) => errors.find((candidate) => candidate.code === code);
  const failure = (kind: AttemptErrorKind, detail: string | null = null): AttemptFailure => ({ error: kind, detail });

  if (has('ERR_BLOCKED_ADDRESS')) return failure('blocked_address');
  // Before timeouts and resets: a proxy that timed out or reset is still the proxy.
  const proxy = find('ERR_EGRESS_PROXY');
  if (proxy) return failure('proxy_error', line(proxy, false));
  const auth = find('ERR_OAUTH_TOKEN');
  if (auth) return failure('auth_error', line(auth, false));
  const tls = errors.find((candidate) => typeof candidate.code === 'string' && TLS_ERROR.test(candidate.code));
  if (tls) return failure('tls_error', line(tls, true));
  if (has('TimeoutError', 'AbortError', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT'))
    return failure('timeout');
  if (has('ECONNREFUSED')) return failure('connection_refused');
  if (has('ENOTFOUND', 'EAI_AGAIN', 'EAI_NODATA', 'EAI_FAIL')) return failure('dns');
  if (has('ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED')) return failure('connection_reset');
  return failure('network');
}
