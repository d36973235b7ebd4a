import type { LookupAddress } from 'node:dns';
import { copyFileSync } from 'node:fs';
import { request } from 'undici';
import { freePort, SquidProxy, type TestCertificate, TestPki, TlsTestReceiver, waitUntil } from '@callbacks/testing';
import { classifyError } from '../src/transport/attempt-error';
import { ClientCertificateFiles, readClientCertificate } from '../src/transport/client-certificate';
import { EgressTransport, type EgressTransportOptions, type TlsTrust } from '../src/transport/egress-transport';

/** A resolver that answers every name with `address`, as DNS would for a host that points somewhere private. */
function resolvingTo(address: string) {
  return ((_host: string, _options: unknown, callback: (error: Error | null, addresses: LookupAddress[]) => void) =>
    callback(null, [{ address, family: address.includes(':') ? 6 : 4 }])) as never;
}

/**
 * The egress transport against real peers on loopback: Debian's Squid as the CONNECT proxy, and a
 * Node HTTPS endpoint behind a private CA that requires a client certificate.
 */
describe('EgressTransport: proxy, mutual TLS and the address check, against Squid and an mTLS endpoint', () => {
  const pki = new TestPki();
  let partnerCa: TestCertificate;
  let otherCa: TestCertificate;
  let clientCa: TestCertificate;
  let clientA: TestCertificate;
  let clientB: TestCertificate;
  let receiver: TlsTestReceiver;
  let squid: SquidProxy;
  const transports: EgressTransport[] = [];
  const watchers: ClientCertificateFiles[] = [];

  beforeAll(async () => {
    partnerCa = pki.certificateAuthority('partner-ca');
    otherCa = pki.certificateAuthority('other-ca');
    clientCa = pki.certificateAuthority('callbacks-client-ca');
    clientA = pki.issue('client-a', clientCa, 'client');
    clientB = pki.issue('client-b', clientCa, 'client');
    receiver = await TlsTestReceiver.start(pki.issue('partner-endpoint', partnerCa, 'server'), clientCa);
    squid = await SquidProxy.start();
  });

  afterEach(async () => {
    await Promise.all(transports.splice(0).map((transport) => transport.close()));
    for (const watcher of watchers.splice(0)) watcher.close();
  });

  afterAll(async () => {
    await receiver.close();
    await squid.stop();
    pki.remove();
  });

  function transport(options: Partial<EgressTransportOptions> & { client?: TestCertificate | null } = {}): EgressTransport {
    const { client = clientA, ...rest } = options;
    let files: ClientCertificateFiles | null = null;
    if (client) {
      files = new ClientCertificateFiles(
        { certPath: client.certPath, keyPath: client.keyPath },
        { rotated: () => undefined, rejected: () => undefined },
      );
      watchers.push(files);
    }
    const created = new EgressTransport({
      timeoutMs: 5_000,
      allowInsecure: true,
      connectionsPerOrigin: 4,
      proxyUrl: null,
      clientCertificate: files,
      ...rest,
    });
    transports.push(created);
    return created;
  }

  async function post(egress: EgressTransport, url: string, trust: TlsTrust = { caCertificate: partnerCa.cert }) {
    try {
      const response = await request(url, { method: 'POST', body: '{}', dispatcher: egress.dispatcher(trust) });
      await response.body.text();
      return { statusCode: response.statusCode, failure: null };
    } catch (error) {
      return { statusCode: null, failure: classifyError(error) };
    }
  }

  it('presents the client certificate and trusts the callback’s own CA: delivered, host name kept for SNI and Host', async () => {
    const before = receiver.requests.length;
    const outcome = await post(transport(), `${receiver.url('localhost')}/hooks`);
    expect(outcome).toEqual({ statusCode: 200, failure: null });
    const [received] = receiver.requests.slice(before);
    expect(received).toMatchObject({ clientCertificate: 'client-a', servername: 'localhost', path: '/hooks' });
    expect(received.headers.host).toBe(`localhost:${receiver.port}`);
  });

  it('without a client certificate the endpoint refuses the handshake: tls_error with the reason', async () => {
    const before = receiver.requests.length;
    const outcome = await post(transport({ client: null }), `${receiver.url()}/hooks`);
    expect(outcome.failure?.error).toBe('tls_error');
    expect(outcome.failure?.detail).toBe(
      'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: tlsv13 alert certificate required (SSL alert number 116)',
    );
    expect(receiver.requests.length).toBe(before);
  });

  it('a caCertificate that the endpoint’s chain does not lead to, or the public roots alone: tls_error', async () => {
    const egress = transport();
    const wrongCa = await post(egress, `${receiver.url()}/hooks`, { caCertificate: otherCa.cert });
    expect(wrongCa.failure).toEqual({
      error: 'tls_error',
      detail: expect.stringMatching(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify/i),
    });
    const publicRoots = await post(egress, `${receiver.url()}/hooks`, { caCertificate: null });
    expect(publicRoots.failure?.error).toBe('tls_error');
    // With the public roots added, the callback's CA still works (what token URLs get).
    expect(await post(egress, `${receiver.url()}/hooks`, { caCertificate: partnerCa.cert, publicRoots: true })).toMatchObject({
      statusCode: 200,
    });
  });

  it('goes through Squid with CONNECT to the address it checked, keeping the host name for TLS and Host', async () => {
    const egress = transport({ proxyUrl: squid.url() });
    const before = receiver.requests.length;
    expect(await post(egress, `${receiver.url('localhost')}/via-proxy`)).toEqual({ statusCode: 200, failure: null });
    const [received] = receiver.requests.slice(before);
    expect(received).toMatchObject({ servername: 'localhost', clientCertificate: 'client-a' });
    expect(received.headers.host).toBe(`localhost:${receiver.port}`);
    await egress.close(); // Squid logs a tunnel when it closes
    const connects = await waitUntil(() => {
      const lines = squid.connects().filter(({ target }) => target.endsWith(`:${receiver.port}`));
      return lines.length > 0 && lines;
    });
    // The proxy was asked for the checked address, never for the name.
    expect(connects.map(({ target }) => target)).toContain(`127.0.0.1:${receiver.port}`);
    expect(squid.accessLog()).not.toContain(`CONNECT localhost:`);
  });

  it('refuses, before asking the proxy, a host that resolves to a non-public address', async () => {
    const egress = transport({ proxyUrl: squid.url(), allowInsecure: false, resolve: resolvingTo('127.0.0.1') });
    const before = receiver.requests.length;
    const tunnelsBefore = squid.connects().length;
    const outcome = await post(egress, `https://hooks.partner.example:${receiver.port}/x`);
    expect(outcome.failure?.error).toBe('blocked_address');
    const privateRange = transport({ proxyUrl: squid.url(), allowInsecure: false, resolve: resolvingTo('10.1.2.3') });
    expect((await post(privateRange, `https://hooks.partner.example:${receiver.port}/x`)).failure?.error).toBe('blocked_address');
    await Promise.all([egress.close(), privateRange.close()]);
    expect(receiver.requests.length).toBe(before);
    expect(squid.connects().length).toBe(tunnelsBefore);
  });

  it('a proxy that is down or refuses the tunnel: proxy_error, naming the proxy without its credentials', async () => {
    const down = await post(transport({ proxyUrl: `http://user:s3cret@127.0.0.1:${await freePort()}` }), `${receiver.url()}/x`);
    expect(down.failure).toEqual({ error: 'proxy_error', detail: expect.stringMatching(/could not be reached \(ECONNREFUSED\)/) });
    expect(down.failure?.detail).not.toContain('s3cret');

    const closedPort = await freePort();
    const refused = await post(transport({ proxyUrl: squid.url() }), `https://127.0.0.1:${closedPort}/x`);
    expect(refused.failure).toEqual({
      error: 'proxy_error',
      detail: expect.stringMatching(/answered 503 to CONNECT 127\.0\.0\.1:\d+ \(ERR_CONNECT_FAIL/),
    });
  });

  it('sends Proxy-Authorization from the URL’s credentials; wrong ones get 407 as proxy_error', async () => {
    const guarded = await SquidProxy.start({ user: 'egress', password: 'p@ss:word' });
    try {
      const ok = await post(transport({ proxyUrl: guarded.url({ user: 'egress', password: 'p@ss:word' }) }), `${receiver.url()}/auth`);
      expect(ok).toEqual({ statusCode: 200, failure: null });
      const wrong = await post(transport({ proxyUrl: guarded.url({ user: 'egress', password: 'nope' }) }), `${receiver.url()}/auth`);
      expect(wrong.failure).toEqual({ error: 'proxy_error', detail: expect.stringMatching(/answered 407/) });
      const none = await post(transport({ proxyUrl: guarded.url() }), `${receiver.url()}/auth`);
      expect(none.failure?.detail).toMatch(/answered 407/);
    } finally {
      await guarded.stop();
    }
  });

  it('re-reads a rotated certificate pair; new connections present the new one', async () => {
    const certPath = `${pki.directory}/rotating.pem`;
    const keyPath = `${pki.directory}/rotating.key`;
    copyFileSync(clientA.certPath, certPath);
    copyFileSync(clientA.keyPath, keyPath);
    let egress: EgressTransport | null = null;
    const problems: string[] = [];
    const files = new ClientCertificateFiles(
      { certPath, keyPath },
      { rotated: () => egress?.dropAgents(), rejected: (problem) => problems.push(problem) },
      50,
    );
    watchers.push(files);
    egress = transport({ clientCertificate: files });
    const before = receiver.requests.length;
    await post(egress, `${receiver.url()}/rotation`);

    // Half a rotation (the certificate first) keeps the old pair: the new certificate does not match the old key.
    copyFileSync(clientB.certPath, certPath);
    await waitUntil(() => problems.length > 0, 10_000, 'the mismatched pair to be noticed');
    expect(problems[0]).toMatch(/WEBHOOK_CLIENT_KEY: .* is not the private key/);
    await post(egress, `${receiver.url()}/rotation`);

    copyFileSync(clientB.keyPath, keyPath);
    await waitUntil(() => files.generation === 2, 10_000, 'the rotation');
    await post(egress, `${receiver.url()}/rotation`);
    expect(receiver.requests.slice(before).map((received) => received.clientCertificate)).toEqual(['client-a', 'client-a', 'client-b']);
  });

  it('checks the pair at start and names the variable', () => {
    expect(() => readClientCertificate({ certPath: clientA.certPath, keyPath: clientB.keyPath })).toThrow(
      /^WEBHOOK_CLIENT_KEY: .* is not the private key of the certificate/,
    );
    expect(() => readClientCertificate({ certPath: clientA.keyPath, keyPath: clientA.keyPath })).toThrow(
      /^WEBHOOK_CLIENT_CERT: .* not a PEM certificate/,
    );
    expect(() => readClientCertificate({ certPath: '/nonexistent.pem', keyPath: clientA.keyPath })).toThrow(
      /^WEBHOOK_CLIENT_CERT: cannot read/,
    );
    expect(readClientCertificate({ certPath: clientA.certPath, keyPath: clientA.keyPath }).warnings).toEqual([]);
  });

  it('keeps at most maxAgents agents, whatever number of distinct CAs callbacks bring', async () => {
    const egress = transport({ maxAgents: 2 });
    for (const ca of [partnerCa, otherCa, clientCa, partnerCa]) egress.dispatcher({ caCertificate: ca.cert });
    expect(egress.agentCount).toBe(2);
    // An evicted CA comes back with a fresh agent that works.
    expect(await post(egress, `${receiver.url()}/again`)).toMatchObject({ statusCode: 200 });
  });
});
