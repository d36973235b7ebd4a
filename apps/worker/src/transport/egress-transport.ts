import { createHash } from 'node:crypto';
import type { lookup as dnsLookup } from 'node:dns';
import { createSecureContext, rootCertificates } from 'node:tls';
import { Agent } from 'undici';
import type { ClientCertificateFiles } from './client-certificate';
import { createEgressConnector } from './egress-connector';
import { parseEgressProxy, ProxyTunnel } from './proxy-tunnel';

/**
 * Whom a TLS connection trusts. No CA: the public roots (Node's bundled Mozilla store). A CA: the
 * server's certificate must chain to it, and only to it; with `publicRoots` too, to it or to a
 * public root (a partner's token endpoint may sit behind a public certificate).
 */
export interface TlsTrust {
  caCertificate: string | null;
  publicRoots?: boolean;
}

export interface EgressTransportOptions {
  timeoutMs: number;
  allowInsecure: boolean;
  /** Connections kept per origin in each agent. */
  connectionsPerOrigin: number;
  /** WEBHOOK_PROXY_URL, or null. */
  proxyUrl: string | null;
  /** WEBHOOK_CLIENT_CERT/KEY, or null: no client certificate. */
  clientCertificate: ClientCertificateFiles | null;
  /** Agents kept at once (one per distinct CA in use); the least recently used is closed beyond it. */
  maxAgents?: number;
  resolve?: typeof dnsLookup;
}

/** One agent per distinct trust is enough for a few hundred partners with their own CA; each holds only idle sockets. */
export const DEFAULT_MAX_AGENTS = 64;
export const PUBLIC_TRUST: TlsTrust = { caCertificate: null };

/**
 * Every outbound HTTP request's dispatcher: undici agents (keep-alive pools per origin) whose
 * connections all go through the egress connector (address check, proxy, TLS with our client
 * certificate). A callback with its own CA gets its own agent, since TLS trust is fixed per agent;
 * agents are kept in least-recently-used order up to `maxAgents`, so a stream of distinct CAs
 * costs new connections, never unbounded memory. A client-certificate rotation closes every agent
 * gracefully (requests in flight finish) and new requests connect with the new pair.
 */
export class EgressTransport {
  private readonly agents = new Map<string, Agent>();
  private readonly proxy: ProxyTunnel | null;
  private readonly maxAgents: number;
  private readonly closing = new Set<Promise<void>>();

  constructor(private readonly options: EgressTransportOptions) {
    this.proxy = options.proxyUrl ? new ProxyTunnel(parseEgressProxy(options.proxyUrl), options.timeoutMs) : null;
    this.maxAgents = options.maxAgents ?? DEFAULT_MAX_AGENTS;
  }

  /** The proxy's origin (no credentials), or null when connecting directly. */
  get proxyOrigin(): string | null {
    return this.proxy?.origin ?? null;
  }

  /** Agents open now (for tests and the bound above). */
  get agentCount(): number {
    return this.agents.size;
  }

  /**
   * The agent for `trust`. Dispatch on it at once (in the same tick): an agent is closed only when
   * another one is made, or at a certificate rotation, and a closing agent still finishes what it has.
   */
  dispatcher(trust: TlsTrust = PUBLIC_TRUST): Agent {
    const key = this.keyOf(trust);
    const existing = this.agents.get(key);
    if (existing) {
      this.agents.delete(key);
      this.agents.set(key, existing);
      return existing;
    }
    const agent = this.createAgent(trust);
    this.agents.set(key, agent);
    while (this.agents.size > this.maxAgents) {
      const [oldestKey, oldest] = this.agents.entries().next().value as [string, Agent];
      this.agents.delete(oldestKey);
      this.retire(oldest);
    }
    return agent;
  }

  /** After a client-certificate rotation: no new request uses an agent holding the old pair. */
  dropAgents(): void {
    for (const agent of this.agents.values()) this.retire(agent);
    this.agents.clear();
  }

  async close(): Promise<void> {
    this.dropAgents();
    await Promise.all([...this.closing, this.proxy?.close()]);
  }

  private keyOf(trust: TlsTrust): string {
    if (!trust.caCertificate) return 'public';
    const fingerprint = createHash('sha256').update(trust.caCertificate).digest('base64url');
    return `${fingerprint}${trust.publicRoots ? '+public' : ''}`;
  }

  private createAgent(trust: TlsTrust): Agent {
    const pair = this.options.clientCertificate?.current;
    const ca = trust.caCertificate ? (trust.publicRoots ? [...rootCertificates, trust.caCertificate] : [trust.caCertificate]) : undefined;
    const secureContext = createSecureContext({ ...(ca ? { ca } : {}), ...(pair ? { cert: pair.cert, key: pair.key } : {}) });
    return new Agent({
      connections: this.options.connectionsPerOrigin,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: this.options.timeoutMs,
      bodyTimeout: this.options.timeoutMs,
      connect: createEgressConnector({
        allowInsecure: this.options.allowInsecure,
        timeoutMs: this.options.timeoutMs,
        proxy: this.proxy,
        secureContext,
        resolve: this.options.resolve,
      }),
    });
  }

  private retire(agent: Agent): void {
    const closed = agent.close().catch(() => undefined);
    this.closing.add(closed);
    void closed.finally(() => this.closing.delete(closed));
  }
}
