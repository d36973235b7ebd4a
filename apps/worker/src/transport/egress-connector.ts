import type { lookup as dnsLookup } from 'node:dns';
import { connect as netConnect, type Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import { buildConnector } from 'undici';
import { resolveCheckedAddress } from '@callbacks/url-policy';
import type { ProxyTunnel } from './proxy-tunnel';

export interface EgressConnectorOptions {
  /** ALLOW_INSECURE_CALLBACKS: non-public addresses are reached too (the host is still resolved here and pinned). */
  allowInsecure: boolean;
  /** Bounds the TCP connect (or the proxy's CONNECT) and, separately, the TLS handshake. */
  timeoutMs: number;
  /** WEBHOOK_PROXY_URL's tunnel, or null to connect directly. */
  proxy: ProxyTunnel | null;
  /** What TLS trusts and presents: the CA(s) the server's certificate must chain to, and our client certificate. */
  secureContext: SecureContext;
  /** The DNS resolver behind the address check (tests give a fake one). */
  resolve?: typeof dnsLookup;
}

function openTcp(address: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: address, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`connect to ${address}:${port} timed out`), { code: 'UND_ERR_CONNECT_TIMEOUT' }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

const TLS_FAILURE = /^(ERR_SSL_|ERR_TLS_)/;

/**
 * In TLS 1.3 a server rejects our client certificate (or its absence) only after the handshake
 * has completed on our side, with an alert that arrives while undici is sending the request. The
 * socket emits that alert as an error, then ends; undici answers the end by destroying the socket
 * with "other side closed", and that later error replaces the alert as the request's error. Every
 * error the socket emits after a TLS failure is therefore the TLS failure itself, so the attempt
 * records why (tls_error, "certificate required") instead of a bare connection reset.
 */
function keepTlsFailure(socket: Socket): Socket {
  let failure: Error | null = null;
  const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
  socket.emit = ((event: string | symbol, ...args: unknown[]) => {
    if (event === 'error') {
      const error = args[0] as NodeJS.ErrnoException;
      if (failure) args[0] = failure;
      else if (typeof error?.code === 'string' && TLS_FAILURE.test(error.code)) failure = error;
    }
    return emit(event, ...args);
  }) as Socket['emit'];
  return socket;
}

/**
 * The one way every outbound HTTP connection is made (deliveries, operator events, token
 * requests), given to undici's Agent as its `connect`:
 *
 *   resolve the host and check every address (SSRF rules) → TCP to that address, directly or through
 *   the proxy's CONNECT → TLS over it with the host name for SNI and the certificate check.
 *
 * The request's Host header stays the URL's host: undici writes it from the origin, not from here.
 */
export function createEgressConnector(options: EgressConnectorOptions): buildConnector.connector {
  // undici's own TLS step: session resumption per server name, ALPN http/1.1, its handshake timeout.
  const tlsConnector = buildConnector({ secureContext: options.secureContext, timeout: options.timeoutMs });

  async function establish(target: buildConnector.Options): Promise<Socket> {
    const https = target.protocol === 'https:';
    const port = Number(target.port) || (https ? 443 : 80);
    const { address } = await resolveCheckedAddress(target.hostname, { allowInsecure: options.allowInsecure, resolve: options.resolve });
    const socket = options.proxy ? await options.proxy.open(address, port) : await openTcp(address, port, options.timeoutMs);
    if (!https) {
      socket.setNoDelay(true).setKeepAlive(true, 60_000);
      return socket;
    }
    return new Promise((resolve, reject) =>
      tlsConnector({ ...target, port: String(port), httpSocket: socket }, (error, tlsSocket) => {
        if (error) {
          socket.destroy();
          reject(error);
        } else resolve(keepTlsFailure(tlsSocket as Socket));
      }),
    );
  }

  return (target, callback) => {
    establish(target).then(
      (socket) => callback(null, socket),
      (error: Error) => callback(error, null),
    );
  };
}
