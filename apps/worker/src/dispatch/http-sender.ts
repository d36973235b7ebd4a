import type { lookup as dnsLookup } from 'node:dns';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { withoutTracePropagation } from '@callbacks/telemetry';
import type { AttemptOutcome } from './attempt-outcome';
import { classifyError } from '../transport/attempt-error';
import type { ClientCertificateFiles } from '../transport/client-certificate';
import { EgressTransport } from '../transport/egress-transport';
import { type AccessToken, type OAuthTokenCache, type TokenSlot } from '../transport/oauth-token-cache';
import { type ClientCredentialsGrant, requestClientCredentialsToken } from '../transport/oauth-token-request';

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
  /** WEBHOOK_PROXY_URL: every connection tunnels through this CONNECT proxy. */
  proxyUrl?: string | null;
  /** WEBHOOK_CLIENT_CERT/KEY: the client certificate TLS presents. */
  clientCertificate?: ClientCertificateFiles | null;
  /** Where OAuth2 tokens are shared between workers; needed for deliveries with `auth`. */
  tokens?: OAuthTokenCache | null;
}

/** OAuth2 client credentials of a delivery: where its token is cached, and how to get one. */
export interface DeliveryAuth {
  slot: TokenSlot;
  grant: ClientCredentialsGrant;
}

export interface OutgoingDelivery {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The callback's tls.caCertificate: the endpoint's certificate must chain to it. Null or absent: the public roots. */
  caCertificate?: string | null;
  /** The callback's OAuth2 client credentials: the request carries Authorization: Bearer <token>. */
  auth?: DeliveryAuth | null;
  /** The callback's delivery.timeoutMs: the whole attempt's deadline (at most the sender's own, DELIVERY_TIMEOUT_MS). Absent: the sender's. */
  timeoutMs?: number;
}

/**
 * POSTs deliveries with undici: keep-alive connection pools per origin, no redirects followed,
 * one deadline for the whole attempt (token, connect, headers and body), and at most 64 KiB of the
 * response read. Every connection goes through the egress transport: the host is resolved and
 * every address checked (unless insecure callbacks are allowed), the socket reaches the checked
 * address (through WEBHOOK_PROXY_URL's CONNECT when set), and TLS presents our client certificate
 * and trusts the callback's own CA when it has one. A callback with OAuth2 client credentials gets
 * its shared token as Authorization: Bearer; a 401 answer fetches a new token once and sends again,
 * within the same attempt and deadline.
 */
export class HttpSender {
  readonly transport: EgressTransport;

  constructor(private readonly options: HttpSenderOptions) {
    this.transport = new EgressTransport({
      timeoutMs: options.timeoutMs,
      allowInsecure: options.allowInsecure,
      connectionsPerOrigin: options.connectionsPerOrigin,
      proxyUrl: options.proxyUrl ?? null,
      clientCertificate: options.clientCertificate ?? null,
      resolve: options.resolve,
    });
  }

  async send(delivery: OutgoingDelivery): Promise<AttemptOutcome> {
    const started = performance.now();
    const finish = (
      fields: Pick<AttemptOutcome, 'statusCode' | 'error' | 'errorDetail' | 'responseBody' | 'retryAfter'>,
    ): AttemptOutcome => ({
      ...fields,
      durationMs: Math.round(performance.now() - started),
      ok: fields.error === null && fields.statusCode !== null && fields.statusCode >= 200 && fields.statusCode < 300,
    });
    const deadline = AbortSignal.timeout(Math.min(delivery.timeoutMs ?? this.options.timeoutMs, this.options.timeoutMs));
    let response: Awaited<ReturnType<typeof request>>;
    try {
      let token = delivery.auth ? await this.token(delivery.auth, deadline) : null;
      response = await this.post(delivery, token, deadline);
      if (response.statusCode === 401 && token && delivery.auth) {
        // The token was revoked or expired early: one new token, one more try.
        await response.body.dump();
        await this.tokenCache().invalidate(delivery.auth.slot, token);
        token = await this.token(delivery.auth, deadline);
        response = await this.post(delivery, token, deadline);
      }
    } catch (error) {
      const { error: kind, detail } = classifyError(error);
      return finish({ statusCode: null, error: kind, errorDetail: detail, responseBody: null, retryAfter: undefined });
    }
    const responseBody = await readCapped(response.body);
    const retryAfter = response.headers['retry-after'];
    return finish({
      statusCode: response.statusCode,
      error: null,
      errorDetail: null,
      responseBody,
      retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
    });
  }

  /** Nest calls this at shutdown, after the worker has finished its jobs. */
  async onApplicationShutdown(): Promise<void> {
    await this.transport.close();
  }

  private post(delivery: OutgoingDelivery, token: AccessToken | null, signal: AbortSignal): Promise<Awaited<ReturnType<typeof request>>> {
    const headers = token ? { ...delivery.headers, authorization: `Bearer ${token.value}` } : delivery.headers;
    // The agent is taken and used in the same tick (see EgressTransport.dispatcher).
    const post = () =>
      request(delivery.url, {
        method: 'POST',
        headers,
        body: delivery.body,
        dispatcher: this.transport.dispatcher({ caCertificate: delivery.caCertificate ?? null }),
        signal,
      });
    return this.options.traceparent ? post() : withoutTracePropagation(post);
  }

  private token(auth: DeliveryAuth, signal: AbortSignal): Promise<AccessToken> {
    return this.tokenCache().token(auth.slot, () => requestClientCredentialsToken(this.transport, auth.grant, signal), signal);
  }

  private tokenCache(): OAuthTokenCache {
    if (!this.options.tokens) throw new Error('a delivery with auth needs the OAuth2 token cache');
    return this.options.tokens;
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
