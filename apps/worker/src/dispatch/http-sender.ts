import type { lookup as dnsLookup } from 'node:dns';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import type { AttemptErrorKind } from '@callbacks/contracts';
import { withoutTracePropagation } from '@callbacks/telemetry';
import { createGuardedLookup, isForbiddenAddress, literalAddress } from '@callbacks/url-policy';
import type { AttemptOutcome } from './attempt-outcome';

/** We read at most this much of a response, so a huge or endless body cannot exhaust memory. */
export const MAX_RESPONSE_BYTES = 64 * 1024;
/** What the delivery log keeps of a response body. */
export const STORED_RESPONSE_BYTES = 1024;

export interface HttpSenderOptions {
  timeoutMs: number;
  /** ALLOW_INSECURE_CALLBACKS: skip the public-address check (local development and tests). */
  allowInsecure: boolean;
  /** Connections kept per origin; deliveries to one partner beyond this wait for a free one. */
  connectionsPerOrigin: number;
  /** The DNS resolver behind the public-address check (tests give a fake one). */
  resolve?: typeof dnsLookup;
  /** WEBHOOK_TRACEPARENT: with tracing on, the request carries a W3C traceparent header. Off by default. */
  traceparent?: boolean;
}

export interface OutgoingDelivery {
  url: string;
  headers: Record<string, string>;
  body: string;
}

const TLS_ERROR =
  /^(ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(GET|VERIFY)_|HOSTNAME_MISMATCH)/;

function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  for (let current = error as { code?: unknown; name?: unknown; cause?: unknown } | undefined, depth = 0; current && depth < 4; depth++) {
    if (typeof current.code === 'string') codes.push(current.code);
    if (typeof current.name === 'string') codes.push(current.name);
    current = current.cause as typeof current;
  }
  return codes;
}

/** Names a failed attempt by what went wrong, for the delivery log and metrics. */
export function classifyError(error: unknown): AttemptErrorKind {
  const codes = errorCodes(error);
  const has = (...wanted: string[]) => codes.some((code) => wanted.includes(code));
  if (has('ERR_BLOCKED_ADDRESS')) return 'blocked_address';
  if (has('TimeoutError', 'AbortError', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT'))
    return 'timeout';
  if (has('ECONNREFUSED')) return 'connection_refused';
  if (has('ENOTFOUND', 'EAI_AGAIN', 'EAI_NODATA', 'EAI_FAIL')) return 'dns';
  if (codes.some((code) => TLS_ERROR.test(code))) return 'tls';
  if (has('ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED')) return 'connection_reset';
  return 'network';
}

/**
 * POSTs deliveries with undici: keep-alive connection pools per origin, no redirects followed,
 * one deadline for the whole attempt (connect, headers and body), and at most 64 KiB of the
 * response read. Unless insecure callbacks are allowed, every connection goes through a DNS lookup
 * that refuses non-public addresses, and the socket connects to the address that was checked.
 */
export class HttpSender {
  private readonly agent: Agent;

  constructor(private readonly options: HttpSenderOptions) {
    this.agent = new Agent({
      connections: options.connectionsPerOrigin,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: { timeout: options.timeoutMs, ...(options.allowInsecure ? {} : { lookup: createGuardedLookup(options.resolve) }) },
    });
  }

  async send(delivery: OutgoingDelivery): Promise<AttemptOutcome> {
    const started = performance.now();
    const finish = (fields: Pick<AttemptOutcome, 'statusCode' | 'error' | 'responseBody' | 'retryAfter'>): AttemptOutcome => ({
      ...fields,
      durationMs: Math.round(performance.now() - started),
      ok: fields.error === null && fields.statusCode !== null && fields.statusCode >= 200 && fields.statusCode < 300,
    });
    if (!this.options.allowInsecure) {
      // A literal IP never goes through DNS, so the guarded lookup would not see it.
      const address = literalAddress(new URL(delivery.url).hostname);
      if (address !== null && isForbiddenAddress(address))
        return finish({ statusCode: null, error: 'blocked_address', responseBody: null, retryAfter: undefined });
    }
    const deadline = AbortSignal.timeout(this.options.timeoutMs);
    let response: Awaited<ReturnType<typeof request>>;
    try {
      const post = () =>
        request(delivery.url, { method: 'POST', headers: delivery.headers, body: delivery.body, dispatcher: this.agent, signal: deadline });
      response = await (this.options.traceparent ? post() : withoutTracePropagation(post));
    } catch (error) {
      return finish({ statusCode: null, error: classifyError(error), responseBody: null, retryAfter: undefined });
    }
    const responseBody = await readCapped(response.body);
    const retryAfter = response.headers['retry-after'];
    return finish({
      statusCode: response.statusCode,
      error: null,
      responseBody,
      retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
    });
  }

  /** Nest calls this at shutdown, after the worker has finished its jobs. */
  onApplicationShutdown(): Promise<void> {
    return this.agent.close();
  }
}

/**
 * Reads up to MAX_RESPONSE_BYTES, then drops the connection's remaining body. The status is
 * already known; a body cut short by the deadline or a reset keeps what arrived.
 */
async function readCapped(body: AsyncIterable<Buffer> & { destroy(error?: Error): unknown }): Promise<string | null> {
  const chunks: Buffer[] = [];
  let received = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      received += chunk.length;
      if (received >= MAX_RESPONSE_BYTES) {
        body.destroy();
        break;
      }
    }
  } catch {
    // Timed out or reset mid-body: keep what arrived.
  }
  if (received === 0) return null;
  // PostgreSQL text cannot hold NUL characters; a hostile body must not make the attempt unrecordable.
  return Buffer.concat(chunks)
    .subarray(0, STORED_RESPONSE_BYTES)
    .toString('utf8')
    .replace(/\u0000/g, '');
}
