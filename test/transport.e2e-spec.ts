import { createPublicKey, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { closeRedisClient, createRedisClient } from '@callbacks/queue';
import {
  ChildApp,
  freePort,
  OAuthTestServer,
  SquidProxy,
  type TestCertificate,
  TestPki,
  type TlsReceivedRequest,
  TlsTestReceiver,
  waitUntil,
} from '@callbacks/testing';
import { BUILT_API, BUILT_WORKER, startBuiltApp } from './support/processes';
import { ADMIN, type Partner, TestSystem } from './support/system';

jest.setTimeout(300_000);

const client = { client_id: 'partner-callbacks', client_secret: `oauth-${randomBytes(24).toString('hex')}` };

/** A partner's check of one delivery with nothing but its published key (Node's crypto) and its secret (the standardwebhooks package). */
function verifiesWith(received: TlsReceivedRequest, publicKey: string): boolean {
  const raw = Buffer.from(publicKey.slice('whpk_'.length), 'base64');
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
  const signed = Buffer.from(`${received.headers['webhook-id']}.${received.headers['webhook-timestamp']}.${received.body}`);
  return String(received.headers['webhook-signature'])
    .split(' ')
    .filter((entry) => entry.startsWith('v1a,'))
    .some((entry) => verify(null, signed, key, Buffer.from(entry.slice(4), 'base64')));
}

/** Every value under the system's queue prefix (jobs, what Bull Board shows, and the worker's other keys) as text. */
async function redisDump(system: TestSystem): Promise<string> {
  const redis = createRedisClient(system.environment.config, 'worker');
  try {
    const keys = await redis.keys(`${system.environment.config.queuePrefix}*`);
    const values = await Promise.all(
      keys.map(async (key) => {
        const type = await redis.type(key);
        if (type === 'hash') return JSON.stringify(await redis.hgetall(key));
        if (type === 'string') return (await redis.get(key)) ?? '';
        if (type === 'list') return (await redis.lrange(key, 0, -1)).join('\n');
        if (type === 'zset') return (await redis.zrange(key, 0, -1)).join('\n');
        if (type === 'set') return (await redis.smembers(key)).join('\n');
        if (type === 'stream') return JSON.stringify(await redis.xrange(key, '-', '+'));
        return '';
      }),
    );
    return values.join('\n');
  } finally {
    await closeRedisClient(redis);
  }
}

async function counts(system: TestSystem, partner: Partner): Promise<Record<string, number>> {
  const rows = (await system.dataSource.query(
    `SELECT status, count(*)::int AS n FROM notifications WHERE partner_id = $1 GROUP BY status`,
    [partner.partnerUniqueId],
  )) as Array<{ status: string; n: number }>;
  return Object.fromEntries(rows.map(({ status, n }) => [status, n]));
}

/**
 * Issue 21 end to end, with real peers on loopback started here: Debian's Squid as the egress proxy,
 * an HTTPS endpoint behind a private CA that requires our client certificate and checks bearer
 * tokens at oidc-provider, and the built API and worker.
 */
describe('bank-grade transport: proxy, mutual TLS, OAuth2 and ed25519, end to end', () => {
  const pki = new TestPki();
  let partnerCa: TestCertificate;
  let clientCertificate: TestCertificate;
  let receiver: TlsTestReceiver;
  let squid: SquidProxy;
  let oauth: OAuthTestServer;
  const active = new Map<string, boolean>();
  /** A key that signed nothing here. */
  const pkiStranger = `whpk_${Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64')}`;

  beforeAll(async () => {
    partnerCa = pki.certificateAuthority('partner-ca');
    const clientCa = pki.certificateAuthority('callbacks-client-ca');
    clientCertificate = pki.issue('partner-callbacks-worker', clientCa, 'client');
    receiver = await TlsTestReceiver.start(pki.issue('partner-endpoint', partnerCa, 'server'), clientCa);
    [squid, oauth] = await Promise.all([SquidProxy.start(), OAuthTestServer.start({ clients: [client], accessTokenTtlSeconds: 600 })]);
    receiver.answer = async (received) => {
      const token = /^Bearer (.+)$/.exec(String(received.headers.authorization ?? ''))?.[1];
      if (!token) return 401;
      if (!active.has(token)) active.set(token, await oauth.active(token, client));
      return active.get(token) ? 200 : 401;
    };
  });
  afterAll(async () => {
    await Promise.all([receiver.close(), squid.stop(), oauth.stop()]);
    pki.remove();
  });

  /**
   * A token request, a tunnel and two TLS handshakes fit in the default deadline, not in the 800 ms
   * the fast test settings give one attempt on a loaded machine; and a slow first attempt must not
   * open the circuit for the 999 behind it.
   */
  const patient = { DELIVERY_TIMEOUT_MS: '15000', RETRY_SCHEDULE: '1s,2s,4s', CIRCUIT_FAILURE_THRESHOLD: '1000' };
  const bankEnv = () => ({
    ...patient,
    WEBHOOK_PROXY_URL: squid.url(),
    WEBHOOK_CLIENT_CERT: clientCertificate.certPath,
    WEBHOOK_CLIENT_KEY: clientCertificate.keyPath,
  });

  const callbackBody = () => ({
    callbackUrl: `${receiver.url('localhost')}/hooks`,
    signature: 'both',
    tls: { caCertificate: partnerCa.cert },
    auth: { type: 'oauth2_client_credentials', tokenUrl: oauth.tokenUrl, clientId: client.client_id, clientSecret: client.client_secret },
  });

  it('1,000 notifications through Squid with mutual TLS, the partner’s CA and OAuth2: delivered, v1 and v1a verify, one token request, no secret anywhere', async () => {
    const system = await TestSystem.start({ ...bankEnv(), CALLBACK_MAX_IN_FLIGHT: '20' }, 0);
    const apiPort = await freePort();
    const logged = { LOG_LEVEL: 'debug' };
    const api = startBuiltApp(BUILT_API, { ...system.environment.env, ...logged, PORT: String(apiPort) });
    let worker: ChildApp | null = startBuiltApp(BUILT_WORKER, { ...system.environment.env, ...logged, WORKER_PORT: '0' });
    try {
      await Promise.all([api.waitForOutput('API listening', 60_000), worker.waitForOutput('worker running', 60_000)]);
      const http = request(`http://127.0.0.1:${apiPort}`);
      const partner = await system.createPartner();
      const created = await http.put(`/${partner.partnerUniqueId}/callbacks/5`).set(partner.auth).send(callbackBody()).expect(201);
      const signingSecret = created.body.signingSecret as string;
      const { publicKey } = (await http.get(`/${partner.partnerUniqueId}/callbacks/5/public-key`).set(partner.auth).expect(200)).body;

      const issuedBefore = oauth.issued();
      const receivedBefore = receiver.requests.length;
      for (let batch = 0; batch < 2; batch++) {
        const notifications = Array.from({ length: 500 }, (_, i) => ({
          partnerUniqueId: partner.partnerUniqueId,
          notificationTypeId: 5,
          payload: { processUniqueId: `PRC-${batch}-${i}` },
        }));
        await http.post('/v1/notifications/batch').set(ADMIN).send({ notifications }).expect(202);
      }
      await waitUntil(async () => (await counts(system, partner)).delivered === 1_000, 240_000, '1,000 deliveries').catch(
        async (error: Error) => {
          const failures = (worker?.output ?? '').split('\n').filter((line) => line.includes('"error"') && !line.includes('circuit_open'));
          throw new Error(`${error.message}: ${JSON.stringify(await counts(system, partner))}\n${failures.slice(0, 10).join('\n')}`);
        },
      );

      expect(oauth.issued() - issuedBefore).toBeLessThanOrEqual(2);
      const received = receiver.requests.slice(receivedBefore);
      // At least once: a delivery may arrive twice (a stalled job on a loaded machine), each with its webhook-id.
      expect(new Set(received.map((delivery) => delivery.headers['webhook-id'])).size).toBe(1_000);
      const hmac = new Webhook(signingSecret);
      for (const delivery of received) {
        expect(delivery.clientCertificate).toBe('partner-callbacks-worker');
        expect(delivery.servername).toBe('localhost');
        expect(delivery.headers.host).toBe(`localhost:${receiver.port}`);
        expect(verifiesWith(delivery, publicKey)).toBe(true);
        hmac.verify(delivery.body, delivery.headers as Record<string, string>);
      }
      const token = String(received[0].headers.authorization).slice('Bearer '.length);

      // Squid logs a tunnel when it closes: stop the worker, then read its access log.
      const stopped = worker;
      await stopped.stop('SIGTERM');
      worker = null;
      const tunnels = await waitUntil(() => {
        const matching = squid.connects().filter(({ target }) => target === `127.0.0.1:${receiver.port}`);
        return matching.length > 0 && matching;
      });
      expect(tunnels.every(({ result }) => result === 'TCP_TUNNEL/200')).toBe(true);
      expect(squid.accessLog()).not.toContain('CONNECT localhost:');

      // No secret in the logs, the jobs (what Bull Board shows) or the API's answers.
      const secrets = [client.client_secret, token, 'whsk_', 'PRIVATE KEY', ...clientCertificate.key.split('\n').slice(1, 3)];
      const logs = api.output + stopped.output;
      expect(logs).toContain('"notificationId"');
      const jobs = await redisDump(system);
      for (const secret of secrets) {
        expect(logs).not.toContain(secret);
        expect(jobs).not.toContain(secret);
        expect(JSON.stringify(created.body)).not.toContain(secret);
      }
    } finally {
      await worker?.stop('SIGTERM');
      await api.stop('SIGTERM');
      await system.close();
    }
  });

  async function echo(system: TestSystem, partner: Partner): Promise<string> {
    const { body } = await system.http
      .post(`/v1/callbacks/echo/${partner.partnerUniqueId}/5`)
      .set(partner.auth)
      .send({ processUniqueId: `PRC-${randomBytes(4).toString('hex')}` })
      .expect(202);
    return body.notificationId as string;
  }

  it('v1a verifies with the published key across a rotation: both keys sign for 24 hours', async () => {
    const system = await TestSystem.start(bankEnv());
    try {
      const partner = await system.createPartner();
      await system.http
        .put(`/${partner.partnerUniqueId}/callbacks/5`)
        .set(partner.auth)
        .send({ ...callbackBody(), signature: 'ed25519' })
        .expect(201);
      const keyPath = `/${partner.partnerUniqueId}/callbacks/5/public-key`;
      const { publicKey: before } = (await system.http.get(keyPath).set(partner.auth).expect(200)).body;
      const first = await echo(system, partner);
      await system.waitForStatus(partner, first, 'delivered');
      const beforeRotation = receiver.requests.find((received) => received.headers['webhook-id'] === first)!;
      expect(String(beforeRotation.headers['webhook-signature'])).toMatch(/^v1a,\S+$/);
      expect(verifiesWith(beforeRotation, before)).toBe(true);

      const rotated = await system.http.post(`/${partner.partnerUniqueId}/callbacks/5/secret/rotate`).set(partner.auth).expect(200);
      const after = rotated.body.publicKey as string;
      expect((await system.http.get(keyPath).set(partner.auth).expect(200)).body).toEqual({ publicKey: after, previousPublicKey: before });
      const second = await echo(system, partner);
      await system.waitForStatus(partner, second, 'delivered');
      const afterRotation = receiver.requests.find((received) => received.headers['webhook-id'] === second)!;
      expect(String(afterRotation.headers['webhook-signature']).split(' ')).toHaveLength(2);
      expect(verifiesWith(afterRotation, after)).toBe(true);
      expect(verifiesWith(afterRotation, before)).toBe(true);
      expect(verifiesWith(afterRotation, pkiStranger)).toBe(false);
    } finally {
      await system.close();
    }
  });

  it('the proxy down: every attempt is proxy_error, and neither the circuit nor auto-disable counts it', async () => {
    const system = await TestSystem.start({
      WEBHOOK_PROXY_URL: `http://egress:secret@127.0.0.1:${await freePort()}`,
      RETRY_SCHEDULE: '50ms,50ms',
      CIRCUIT_FAILURE_THRESHOLD: '2',
      CALLBACK_DISABLE_AFTER: '1s',
    });
    try {
      const partner = await system.createPartner();
      await system.registerCallback(partner, 5, `${receiver.url()}/hooks`);
      // Failures for longer than CALLBACK_DISABLE_AFTER, and many more than the circuit's threshold.
      const started = Date.now();
      const ended: string[] = [];
      while (Date.now() - started < 1_500) {
        const id = await echo(system, partner);
        const failed = await system.waitForStatus(partner, id, 'failed');
        expect(failed.statusReason).toBe('retries_exhausted');
        expect(failed.attempts).toHaveLength(3);
        for (const attempt of failed.attempts) {
          expect(attempt).toMatchObject({ statusCode: null, error: 'proxy_error' });
          expect((attempt as { errorDetail?: string }).errorDetail).toMatch(
            /^the proxy http:\/\/127\.0\.0\.1:\d+ could not be reached \(ECONNREFUSED\)$/,
          );
        }
        ended.push(id);
      }
      expect(ended.length).toBeGreaterThan(1);
      const { body: callback } = await system.http.get(`/${partner.partnerUniqueId}/callbacks/5`).set(partner.auth).expect(200);
      expect(callback).toMatchObject({ enabled: true, disabledReason: null, failingSince: null, health: 'ok' });
    } finally {
      await system.close();
    }
  });

  it('with the proxy, a host that resolves to a private address is still refused, and the proxy is never asked', async () => {
    const system = await TestSystem.start({ ...bankEnv(), ALLOW_INSECURE_CALLBACKS: 'false' });
    try {
      const partner = await system.createPartner();
      await system.registerCallback(partner, 5, 'https://hooks.partner.example/webhooks');
      // As if the partner's name had been public at registration and now resolves to loopback.
      await system.dataSource.query(`UPDATE callbacks SET callback_url = $1 WHERE partner_id = $2`, [
        `https://localhost:${receiver.port}/hooks`,
        partner.partnerUniqueId,
      ]);
      const tunnelsBefore = squid.connects().length;
      const receivedBefore = receiver.requests.length;
      const id = await echo(system, partner);
      const failed = await system.waitForStatus(partner, id, 'failed');
      expect(failed.statusReason).toBe('blocked_address');
      expect(failed.attempts).toEqual([expect.objectContaining({ error: 'blocked_address', statusCode: null })]);
      await system.stopWorkers(); // any tunnel would now be closed, and logged
      expect(squid.connects().length).toBe(tunnelsBefore);
      expect(receiver.requests.length).toBe(receivedBefore);
    } finally {
      await system.close();
    }
  });

  it('tls_error with the reason: no client certificate, or a CA the endpoint’s chain does not lead to', async () => {
    const system = await TestSystem.start({ ...patient, RETRY_SCHEDULE: '50ms' });
    try {
      const partner = await system.createPartner();
      await system.http.put(`/${partner.partnerUniqueId}/callbacks/5`).set(partner.auth).send(callbackBody()).expect(201);
      const refused = await system.waitForStatus(partner, await echo(system, partner), 'failed');
      expect(refused.attempts[0]).toMatchObject({
        error: 'tls_error',
        errorDetail: expect.stringMatching(/^ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: /),
      });

      const otherCa = pki.certificateAuthority('not-the-partner-ca');
      await system.http
        .put(`/${partner.partnerUniqueId}/callbacks/5`)
        .set(partner.auth)
        .send({ ...callbackBody(), tls: { caCertificate: otherCa.cert } })
        .expect(200);
      const untrusted = await system.waitForStatus(partner, await echo(system, partner), 'failed');
      expect(untrusted.attempts[0]).toMatchObject({
        error: 'tls_error',
        errorDetail: expect.stringMatching(/^UNABLE_TO_VERIFY_LEAF_SIGNATURE: /),
      });
    } finally {
      await system.close();
    }
  });
});
