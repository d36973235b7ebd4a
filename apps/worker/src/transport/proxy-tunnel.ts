import type { Socket } from 'node:net';
import { type Dispatcher, Pool } from 'undici';

/** Raised (as a connection error) when the egress proxy cannot be reached or does not open the tunnel. */
export class EgressProxyError extends Error {
  readonly code = 'ERR_EGRESS_PROXY';

  constructor(
    message: string,
    /** The proxy's answer to CONNECT; null when it could not be reached or answered nothing. */
    readonly statusCode: number | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EgressProxyError';
  }
}

/** WEBHOOK_PROXY_URL, parsed: the proxy's origin and, when the URL had credentials, its Basic authorization. */
export interface EgressProxy {
  /** http://host:port, without credentials: safe to log. */
  origin: string;
  /** "Basic <base64 user:password>", or null. A credential: never logged. */
  authorization: string | null;
}

export function parseEgressProxy(proxyUrl: string): EgressProxy {
  const url = new URL(proxyUrl);
  const authorization =
    url.username || url.password
      ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
      : null;
  return { origin: url.origin, authorization };
}

/** host:port as CONNECT's request target wants it (IPv6 in brackets). */
function authority(address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/**
 * Opens TCP tunnels through an HTTP CONNECT proxy. It is asked for the address we resolved and
 * checked ourselves, never for a host name, so the proxy cannot resolve a name to somewhere our
 * address rules would refuse. Each tunnel takes its own connection to the proxy.
 */
export class ProxyTunnel {
  private readonly pool: Pool;

  constructor(
    private readonly proxy: EgressProxy,
    private readonly timeoutMs: number,
  ) {
    this.pool = new Pool(proxy.origin, { connect: { timeout: timeoutMs }, headersTimeout: timeoutMs, pipelining: 1 });
  }

  get origin(): string {
    return this.proxy.origin;
  }

  async open(address: string, port: number): Promise<Socket> {
    const target = authority(address, port);
    let answer: Dispatcher.ConnectData;
    try {
      answer = await this.pool.connect({
        path: target,
        headers: { host: target, ...(this.proxy.authorization ? { 'proxy-authorization': this.proxy.authorization } : {}) },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const reason = (error as { code?: string }).code ?? (error as Error).message;
      throw new EgressProxyError(`the proxy ${this.proxy.origin} could not be reached (${reason})`, null, { cause: error });
    }
    if (answer.statusCode !== 200) {
      answer.socket.on('error', () => undefined).destroy();
      const squidError = answer.headers['x-squid-error'];
      const hint = squidError ? ` (${String(squidError)})` : '';
      throw new EgressProxyError(
        `the proxy ${this.proxy.origin} answered ${answer.statusCode} to CONNECT ${target}${hint}`,
        answer.statusCode,
      );
    }
    return answer.socket as Socket;
  }

  close(): Promise<void> {
    return this.pool.closed ? Promise.resolve() : this.pool.close();
  }
}
