import { randomBytes } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import { callbackKeys, closeRedisClient, createRedisClient, type RedisClient } from '@callbacks/queue';
import { SecretCipher } from '@callbacks/signing';
import { freePort, OAuthTestServer, serviceUrls } from '@callbacks/testing';
import { classifyError } from '../src/transport/attempt-error';
import { EgressTransport } from '../src/transport/egress-transport';
import { type AccessToken, OAuthTokenCache, type TokenSlot, tokenFingerprint } from '../src/transport/oauth-token-cache';
import { type ClientCredentialsGrant, requestClientCredentialsToken } from '../src/transport/oauth-token-request';

const client = { client_id: 'acme-webhooks', client_secret: `acme-${randomBytes(24).toString('hex')}` };

/** Two workers' worth of token machinery: each its own Redis connection, cache and transport. */
class Worker {
  readonly redis: RedisClient = createRedisClient({ redisUrl: serviceUrls().redisUrl, redisClusterNodes: null }, 'worker');
  readonly transport: EgressTransport;
  readonly cache: OAuthTokenCache;

  constructor(cipher: SecretCipher, options: { proxyUrl?: string; allowInsecure?: boolean; resolve?: never; now?: () => number } = {}) {
    this.transport = new EgressTransport({
      timeoutMs: 5_000,
      allowInsecure: options.allowInsecure ?? true,
      connectionsPerOrigin: 4,
      proxyUrl: options.proxyUrl ?? null,
      clientCertificate: null,
      resolve: options.resolve,
    });
    this.cache = new OAuthTokenCache(this.redis, cipher, { requestTimeoutMs: 5_000, now: options.now });
  }

  token(slot: TokenSlot, grant: ClientCredentialsGrant): Promise<AccessToken> {
    const signal = AbortSignal.timeout(5_000);
    return this.cache.token(slot, () => requestClientCredentialsToken(this.transport, grant, signal), signal);
  }

  async close(): Promise<void> {
    await this.transport.close();
    await closeRedisClient(this.redis);
  }
}

describe('OAuth2 client-credentials tokens, shared through Redis, against oidc-provider', () => {
  const cipher = new SecretCipher(randomBytes(32));
  const fingerprintKey = randomBytes(32);
  const prefix = `{oauth-test-${randomBytes(4).toString('hex')}}`;
  let server: OAuthTestServer;
  let workers: Worker[] = [];
  let callbackCount = 0;

  beforeAll(async () => {
    server = await OAuthTestServer.start({ clients: [client], accessTokenTtlSeconds: 600 });
  });
  afterEach(async () => {
    await Promise.all(workers.map((worker) => worker.close()));
    workers = [];
  });
  afterAll(() => server.stop());

  function worker(options?: ConstructorParameters<typeof Worker>[1]): Worker {
    const created = new Worker(cipher, options);
    workers.push(created);
    return created;
  }

  /** A fresh callback's grant and token slot. */
  function callback(overrides: Partial<ClientCredentialsGrant> = {}): { grant: ClientCredentialsGrant; slot: TokenSlot } {
    const grant = {
      tokenUrl: server.tokenUrl,
      clientId: client.client_id,
      clientSecret: client.client_secret,
      scope: 'webhooks:write',
      caCertificate: null,
      ...overrides,
    };
    const keys = callbackKeys({ queuePrefix: prefix, queueShards: 1 }, `partner-${++callbackCount}`, 5);
    return { grant, slot: { tokenKey: keys.oauthToken, lockKey: keys.oauthLock, fingerprint: tokenFingerprint(fingerprintKey, grant) } };
  }

  it('1,000 deliveries on two workers cost one token request; the token is stored encrypted', async () => {
    const [a, b] = [worker(), worker()];
    const { grant, slot } = callback();
    const before = server.issued();
    const values = new Set<string>();
    for (let batch = 0; batch < 20; batch++) {
      const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).token(slot, grant)));
      for (const token of tokens) values.add(token.value);
    }
    expect(server.issued() - before).toBe(1);
    expect(values.size).toBe(1);
    const [token] = values;
    expect(await server.active(token, client)).toBe(true);
    // Redis holds ciphertext, neither the token nor the client secret.
    const stored = await a.redis.hgetall(slot.tokenKey);
    expect(Object.keys(stored).sort()).toEqual(['fingerprint', 'id', 'refreshAt', 'token']);
    expect(JSON.stringify(stored)).not.toContain(token);
    expect(JSON.stringify(stored)).not.toContain(client.client_secret);
    expect(cipher.decrypt(stored.token)).toBe(token);
    expect(await a.redis.pttl(slot.tokenKey)).toBeGreaterThan(500_000); // 600 s less the one-minute margin
  });

  it('a revoked token is replaced once, however many workers saw it refused', async () => {
    const [a, b] = [worker(), worker()];
    const { grant, slot } = callback();
    const stale = await a.token(slot, grant);
    expect(await b.token(slot, grant)).toEqual(stale);
    await server.revoke(stale.value, client);
    expect(await server.active(stale.value, client)).toBe(false);
    const before = server.issued();

    // Both got a 401 with the same token: the first invalidation drops it, the second finds a newer one.
    await a.cache.invalidate(slot, stale);
    const fresh = await a.token(slot, grant);
    await b.cache.invalidate(slot, stale);
    expect(await b.token(slot, grant)).toEqual(fresh);
    expect(fresh.value).not.toBe(stale.value);
    expect(await server.active(fresh.value, client)).toBe(true);
    expect(server.issued() - before).toBe(1);
  });

  it('an expired token is fetched again (a worker whose clock says it is time to refresh)', async () => {
    let now = Date.now();
    const w = worker({ now: () => now });
    const { grant, slot } = callback();
    const first = await w.token(slot, grant);
    const before = server.issued();
    now += 600_000;
    const second = await w.token(slot, grant);
    expect(second.value).not.toBe(first.value);
    expect(server.issued() - before).toBe(1);
  });

  it('a changed configuration does not reuse the old token', async () => {
    const w = worker();
    const { grant, slot } = callback();
    const first = await w.token(slot, grant);
    const rescoped = { ...grant, scope: null };
    const second = await w.token({ ...slot, fingerprint: tokenFingerprint(fingerprintKey, rescoped) }, rescoped);
    expect(second.value).not.toBe(first.value);
  });

  it('a refusal is auth_error with the server’s reason, remembered for a few seconds and shared', async () => {
    const [a, b] = [worker(), worker()];
    const { grant, slot } = callback({ clientSecret: 'wrong-secret' });
    const refusedBefore = server.refused();
    const failure = await a.token(slot, grant).then(
      () => null,
      (error: unknown) => classifyError(error),
    );
    expect(failure).toEqual({ error: 'auth_error', detail: 'the token URL answered 401 (invalid_client: client authentication failed)' });
    await expect(b.token(slot, grant)).rejects.toMatchObject({ code: 'ERR_OAUTH_TOKEN', message: failure?.detail });
    expect(server.refused() - refusedBefore).toBe(1);
    expect(JSON.stringify(await a.redis.hgetall(slot.tokenKey))).not.toContain('wrong-secret');
  });

  it('the token URL obeys the address rules and goes through the proxy: blocked_address, proxy_error', async () => {
    const resolvingToPrivate = ((_h: string, _o: unknown, callback: (e: null, a: LookupAddress[]) => void) =>
      callback(null, [{ address: '10.0.0.7', family: 4 }])) as never;
    const strict = worker({ allowInsecure: false, resolve: resolvingToPrivate });
    const blocked = callback({ tokenUrl: 'https://auth.partner.example/token' });
    await expect(strict.token(blocked.slot, blocked.grant).catch((error: unknown) => classifyError(error))).resolves.toMatchObject({
      error: 'blocked_address',
    });

    const viaDeadProxy = worker({ proxyUrl: `http://127.0.0.1:${await freePort()}` });
    const proxied = callback();
    await expect(viaDeadProxy.token(proxied.slot, proxied.grant).catch((error: unknown) => classifyError(error))).resolves.toMatchObject({
      error: 'proxy_error',
    });
    // Neither is remembered as the token endpoint's answer.
    expect(await viaDeadProxy.redis.exists(proxied.slot.tokenKey, blocked.slot.tokenKey)).toBe(0);
  });
});
