import { randomBytes } from 'node:crypto';
import { callbackKeys, closeRedisClient, createRedisClient, type RedisClient } from '@callbacks/queue';
import { SecretCipher } from '@callbacks/signing';
import { OAuthTestServer, serviceUrls, SquidProxy, type TestCertificate, TestPki, TlsTestReceiver, waitUntil } from '@callbacks/testing';
import { type DeliveryAuth, HttpSender } from '../src/dispatch/http-sender';
import { ClientCertificateFiles } from '../src/transport/client-certificate';
import { OAuthTokenCache, tokenFingerprint } from '../src/transport/oauth-token-cache';

const client = { client_id: 'bank-webhooks', client_secret: `bank-${randomBytes(24).toString('hex')}` };

/**
 * The sender as a bank runs it, against real peers on loopback: through Squid, presenting a client
 * certificate to an endpoint behind a private CA that checks OAuth2 tokens with oidc-provider.
 */
describe('HttpSender: proxy, mutual TLS and OAuth2 together', () => {
  const pki = new TestPki();
  const cipher = new SecretCipher(randomBytes(32));
  const fingerprintKey = randomBytes(32);
  const prefix = `{sender-test-${randomBytes(4).toString('hex')}}`;
  let partnerCa: TestCertificate;
  let receiver: TlsTestReceiver;
  let squid: SquidProxy;
  let oauth: OAuthTestServer;
  /** What the endpoint learnt from introspection, per token (cleared when a test revokes one). */
  const active = new Map<string, boolean>();
  const senders: Array<{ sender: HttpSender; redis: RedisClient; files: ClientCertificateFiles }> = [];

  beforeAll(async () => {
    partnerCa = pki.certificateAuthority('partner-ca');
    const clientCa = pki.certificateAuthority('client-ca');
    pki.issue('callbacks-client', clientCa, 'client');
    receiver = await TlsTestReceiver.start(pki.issue('partner-endpoint', partnerCa, 'server'), clientCa);
    [squid, oauth] = await Promise.all([SquidProxy.start(), OAuthTestServer.start({ clients: [client], accessTokenTtlSeconds: 600 })]);
    // The partner's endpoint: a valid bearer token or 401, as a resource server checks it (RFC 7662).
    receiver.answer = async (request) => {
      const token = /^Bearer (.+)$/.exec(String(request.headers.authorization ?? ''))?.[1];
      if (!token) return 401;
      if (!active.has(token)) active.set(token, await oauth.active(token, client));
      return active.get(token) ? 200 : 401;
    };
  });
  afterAll(async () => {
    for (const { sender, redis, files } of senders) {
      await sender.onApplicationShutdown();
      await closeRedisClient(redis);
      files.close();
    }
    await Promise.all([receiver.close(), squid.stop(), oauth.stop()]);
    pki.remove();
  });

  /** One worker's sender: its own Redis connection and token cache, the shared proxy and client certificate. */
  function worker(options: { now?: () => number } = {}): HttpSender {
    const redis = createRedisClient({ redisUrl: serviceUrls().redisUrl, redisClusterNodes: null }, 'worker');
    const files = new ClientCertificateFiles(
      { certPath: `${pki.directory}/callbacks-client.pem`, keyPath: `${pki.directory}/callbacks-client.key` },
      { rotated: () => undefined, rejected: () => undefined },
    );
    const sender = new HttpSender({
      timeoutMs: 5_000,
      allowInsecure: true,
      connectionsPerOrigin: 20,
      proxyUrl: squid.url(),
      clientCertificate: files,
      tokens: new OAuthTokenCache(redis, cipher, { requestTimeoutMs: 5_000, now: options.now }),
    });
    senders.push({ sender, redis, files });
    return sender;
  }

  let callbackCount = 0;
  function auth(clientSecret = client.client_secret): DeliveryAuth {
    const grant = { tokenUrl: oauth.tokenUrl, clientId: client.client_id, clientSecret, scope: null, caCertificate: partnerCa.cert };
    const keys = callbackKeys({ queuePrefix: prefix, queueShards: 1 }, `partner-${++callbackCount}`, 5);
    return { grant, slot: { tokenKey: keys.oauthToken, lockKey: keys.oauthLock, fingerprint: tokenFingerprint(fingerprintKey, grant) } };
  }

  const delivery = (callbackAuth: DeliveryAuth, id: string) => ({
    url: `${receiver.url('localhost')}/hooks`,
    headers: { 'content-type': 'application/json', 'webhook-id': id },
    body: '{}',
    caCertificate: partnerCa.cert,
    auth: callbackAuth,
  });

  it('1,000 deliveries on two workers through the proxy, with a client certificate and a bearer token: one token request', async () => {
    const [a, b] = [worker(), worker()];
    const callbackAuth = auth();
    const issuedBefore = oauth.issued();
    const receivedBefore = receiver.requests.length;
    for (let batch = 0; batch < 20; batch++) {
      const outcomes = await Promise.all(
        Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).send(delivery(callbackAuth, `n-${batch}-${i}`))),
      );
      expect(outcomes.filter((outcome) => !outcome.ok)).toEqual([]);
    }
    expect(oauth.issued() - issuedBefore).toBe(1);
    const received = receiver.requests.slice(receivedBefore);
    expect(received).toHaveLength(1_000);
    expect(new Set(received.map((request) => request.headers.authorization)).size).toBe(1);
    expect(new Set(received.map((request) => request.clientCertificate))).toEqual(new Set(['callbacks-client']));
  });

  it('a revoked token: the endpoint’s 401 gets a new token and one more try, in the same attempt', async () => {
    const sender = worker();
    const callbackAuth = auth();
    expect((await sender.send(delivery(callbackAuth, 'before-revocation'))).ok).toBe(true);
    const stale = String(receiver.requests.at(-1)!.headers.authorization).slice('Bearer '.length);
    await oauth.revoke(stale, client);
    active.delete(stale);
    const issuedBefore = oauth.issued();
    const receivedBefore = receiver.requests.length;

    const outcome = await sender.send(delivery(callbackAuth, 'after-revocation'));
    expect(outcome).toMatchObject({ ok: true, statusCode: 200, error: null });
    expect(oauth.issued() - issuedBefore).toBe(1);
    const tries = receiver.requests.slice(receivedBefore);
    expect(tries.map((request) => request.headers.authorization === `Bearer ${stale}`)).toEqual([true, false]);
  });

  it('an expired token the cache still trusted (a worker whose clock stands still) is replaced the same way', async () => {
    const stopped = Date.now();
    const sender = worker({ now: () => stopped });
    const shortLived = await OAuthTestServer.start({ clients: [client], accessTokenTtlSeconds: 1 });
    try {
      const callbackAuth = auth();
      callbackAuth.grant.tokenUrl = shortLived.tokenUrl;
      const endpoint = receiver.answer;
      receiver.answer = async (request) => {
        const token = String(request.headers.authorization ?? '').slice('Bearer '.length);
        return (await shortLived.active(token, client)) ? 200 : 401;
      };
      try {
        expect((await sender.send(delivery(callbackAuth, 'fresh'))).ok).toBe(true);
        const first = String(receiver.requests.at(-1)!.headers.authorization).slice('Bearer '.length);
        await waitUntil(async () => !(await shortLived.active(first, client)), 10_000, 'the token to expire');
        const receivedBefore = receiver.requests.length;
        expect(await sender.send(delivery(callbackAuth, 'expired'))).toMatchObject({ ok: true, statusCode: 200 });
        expect(receiver.requests.slice(receivedBefore).map((request) => request.headers.authorization === `Bearer ${first}`)).toEqual([
          true,
          false,
        ]);
        expect(shortLived.issued()).toBe(2);
      } finally {
        receiver.answer = endpoint;
      }
    } finally {
      await shortLived.stop();
    }
  });

  it('a token endpoint that refuses: auth_error with its reason, and nothing reaches the endpoint', async () => {
    const sender = worker();
    const receivedBefore = receiver.requests.length;
    const outcome = await sender.send(delivery(auth('not-the-secret'), 'refused'));
    expect(outcome).toMatchObject({
      ok: false,
      statusCode: null,
      error: 'auth_error',
      errorDetail: 'the token URL answered 401 (invalid_client: client authentication failed)',
    });
    expect(receiver.requests.length).toBe(receivedBefore);
  });
});
