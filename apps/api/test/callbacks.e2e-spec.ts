import { callbackKeys } from '@callbacks/queue';
import { ApiRedis } from '../src/common/api-redis';
import { ADMIN, type ApiTestApp, expectProblem, startApiTestApp, type TestPartner } from './api-test-app';

const URL_A = 'https://partner.example.com/hooks/status';
const URL_B = 'https://partner.example.com/hooks/v2';

describe('partner callbacks API', () => {
  let api: ApiTestApp;
  let partner: TestPartner;
  let base: string;

  beforeAll(async () => {
    api = await startApiTestApp();
  });
  beforeEach(async () => {
    partner = await api.createPartner();
    base = `/${partner.partnerUniqueId}/callbacks`;
  });
  afterAll(() => api.close());

  it('creates (201, with the signing secret), updates (200, same secret), reads, lists and deletes', async () => {
    const created = await api.http
      .put(`${base}/5`)
      .set(partner.auth)
      .send({ callbackUrl: URL_A, headers: { 'X-Custom': 'v' } })
      .expect(201);
    expect(created.body).toEqual({
      partnerUniqueId: partner.partnerUniqueId,
      notificationTypeId: 5,
      notificationType: 'status.changed',
      callbackUrl: URL_A,
      headers: { 'X-Custom': 'v' },
      enabled: true,
      disabledReason: null,
      disabledAt: null,
      failingSince: null,
      lastSuccessAt: null,
      health: 'ok',
      signature: 'hmac',
      tls: null,
      auth: null,
      delivery: { ordering: 'none', maxInFlight: 10, ratePerSecond: null, timeoutMs: 15000 },
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      signingSecret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
    });

    const updated = await api.http.put(`${base}/5`).set(partner.auth).send({ callbackUrl: URL_B, enabled: false }).expect(200);
    expect(updated.body).toMatchObject({
      callbackUrl: URL_B,
      headers: {},
      enabled: false,
      disabledReason: 'partner',
      createdAt: created.body.createdAt,
    });
    expect(Date.parse(updated.body.disabledAt)).toBeGreaterThanOrEqual(Date.parse(created.body.createdAt));
    expect(updated.body.signingSecret).toBeUndefined();
    expect(Date.parse(updated.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.body.updatedAt));

    await api.http.get(`${base}/5`).set(partner.auth).expect(200, updated.body);
    const secret = await api.http.get(`${base}/5/secret`).set(partner.auth).expect(200);
    expect(secret.body).toEqual({ signingSecret: created.body.signingSecret });

    await api.http.put(`${base}/7`).set(partner.auth).send({ callbackUrl: URL_A }).expect(201);
    const list = await api.http.get(base).set(partner.auth).expect(200);
    expect(list.body.total).toBe(2);
    expect(list.body.items.map((item: { notificationTypeId: number }) => item.notificationTypeId)).toEqual([5, 7]);
    expect(list.body.items[0]).toEqual(updated.body);

    await api.http.delete(`${base}/5`).set(partner.auth).expect(204);
    expectProblem(await api.http.delete(`${base}/5`).set(partner.auth), 404, 'callback_not_found');
    expectProblem(await api.http.get(`${base}/5`).set(partner.auth), 404, 'callback_not_found');
    expectProblem(await api.http.get(`${base}/5/secret`).set(partner.auth), 404, 'callback_not_found');
    expect((await api.http.get(base).set(partner.auth).expect(200)).body.total).toBe(1);
  });

  it('pages the list with offset and limit (at most 200)', async () => {
    for (const type of [5, 6, 7]) await api.http.put(`${base}/${type}`).set(partner.auth).send({ callbackUrl: URL_A }).expect(201);
    const page = await api.http.get(`${base}?offset=1&limit=1`).set(partner.auth).expect(200);
    expect(page.body).toMatchObject({ total: 3, items: [{ notificationTypeId: 6 }] });
    expect((await api.http.get(`${base}?offset=5`).set(partner.auth).expect(200)).body).toEqual({ items: [], total: 3 });
    for (const query of ['limit=201', 'limit=0', 'offset=-1', 'limit=ten', 'offset=1.5', 'sort=asc']) {
      const problem = expectProblem(await api.http.get(`${base}?${query}`).set(partner.auth), 400, 'validation_failed');
      expect(problem.errors?.[0].field).toBe(query.split('=')[0]);
    }
  });

  it('stores signing secrets encrypted, never in plain text', async () => {
    const created = await api.http.put(`${base}/6`).set(partner.auth).send({ callbackUrl: URL_A }).expect(201);
    const [row] = (await api.dataSource.query('SELECT * FROM callbacks WHERE partner_id = $1', [partner.partnerUniqueId])) as Array<
      Record<string, unknown>
    >;
    expect(row.signing_secret_encrypted).toMatch(/^v1\./);
    const secretBase64 = (created.body.signingSecret as string).slice('whsec_'.length);
    expect(JSON.stringify(row)).not.toContain(secretBase64);
    expect(JSON.stringify(row)).not.toContain(Buffer.from(secretBase64, 'base64').toString('hex'));
  });

  it('stores custom header values encrypted, shows them in plaintext, and still reads rows stored before', async () => {
    const headers = { 'X-Partner-Token': 'tok_live_6f1d0c', Authorization: 'Basic cGFydG5lcjpodW50ZXIy' };
    await api.http.put(`${base}/6`).set(partner.auth).send({ callbackUrl: URL_A, headers }).expect(201);
    const [row] = (await api.dataSource.query('SELECT * FROM callbacks WHERE partner_id = $1', [partner.partnerUniqueId])) as Array<
      Record<string, unknown>
    >;
    expect(row.headers_encrypted).toMatch(/^v1\./);
    for (const value of Object.values(headers)) expect(JSON.stringify(row)).not.toContain(value);
    expect((await api.http.get(`${base}/6`).set(partner.auth).expect(200)).body.headers).toEqual(headers);
    expect((await api.http.get(base).set(partner.auth).expect(200)).body.items[0].headers).toEqual(headers);

    // A row written before header values were encrypted keeps working as it is.
    await api.dataSource.query(`UPDATE callbacks SET headers = '{"X-Legacy": "plain"}', headers_encrypted = NULL WHERE partner_id = $1`, [
      partner.partnerUniqueId,
    ]);
    expect((await api.http.get(`${base}/6`).set(partner.auth).expect(200)).body.headers).toEqual({ 'X-Legacy': 'plain' });
    // Replacing the headers with none stores no ciphertext.
    await api.http.put(`${base}/6`).set(partner.auth).send({ callbackUrl: URL_A }).expect(200);
    const [replaced] = (await api.dataSource.query('SELECT headers, headers_encrypted FROM callbacks WHERE partner_id = $1', [
      partner.partnerUniqueId,
    ])) as Array<Record<string, unknown>>;
    expect(replaced).toEqual({ headers: {}, headers_encrypted: null });
  });

  it('answers 404 for an unknown partner (operator key) and 400 for a malformed partner id', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const before = await api.tableCounts();
    expectProblem(await api.http.get(`/${unknown}/callbacks`).set(ADMIN), 404, 'partner_not_found');
    expectProblem(await api.http.put(`/${unknown}/callbacks/5`).set(ADMIN).send({ callbackUrl: URL_A }), 404, 'partner_not_found');
    expectProblem(await api.http.get(`/${unknown}/callbacks/5`).set(ADMIN), 404, 'partner_not_found');
    expectProblem(await api.http.delete(`/${unknown}/callbacks/5`).set(ADMIN), 404, 'partner_not_found');
    for (const auth of [ADMIN, partner.auth]) {
      const problem = expectProblem(await api.http.get('/not-a-uuid/callbacks').set(auth), 400, 'invalid_partner_id');
      expect(problem.errors).toEqual([{ field: 'partnerUniqueID', message: 'must be a UUID' }]);
    }
    expect(await api.tableCounts()).toEqual(before);
  });

  it.each(['8', '0', '-5', '5.5', 'five', '99999999999'])('refuses notification type %s, listing the supported ones', async (type) => {
    for (const call of [
      api.http.put(`${base}/${type}`).set(partner.auth).send({ callbackUrl: URL_A }),
      api.http.get(`${base}/${type}`).set(partner.auth),
      api.http.delete(`${base}/${type}`).set(partner.auth),
    ]) {
      const problem = expectProblem(await call, 400, 'unsupported_notification_type');
      expect(problem.detail).toContain('5 (status.changed), 6 (message.created), 7 (document.available)');
    }
  });

  describe('PUT validation (nothing is stored on failure)', () => {
    it.each([
      [{}, 'callbackUrl', /should not be empty|must be a string/],
      [{ callbackUrl: 42 }, 'callbackUrl', /string/],
      [{ callbackUrl: 'http://partner.example.com/hook' }, 'callbackUrl', /https/],
      [{ callbackUrl: 'partner.example.com/hook' }, 'callbackUrl', /absolute/],
      [{ callbackUrl: `https://partner.example.com/${'a'.repeat(2030)}` }, 'callbackUrl', /2048/],
      [{ callbackUrl: 'https://127.0.0.1/hook' }, 'callbackUrl', /non-public/],
      [{ callbackUrl: 'https://169.254.169.254/latest/meta-data' }, 'callbackUrl', /non-public/],
      [{ callbackUrl: 'https://[::1]/hook' }, 'callbackUrl', /non-public/],
      [{ callbackUrl: 'https://10.0.0.8/hook' }, 'callbackUrl', /non-public/],
      [{ callbackUrl: 'https://localhost/hook' }, 'callbackUrl', /public host/],
      [{ callbackUrl: URL_A, headers: { 'Webhook-Signature': 'x' } }, 'headers.Webhook-Signature', /set by the service/],
      [{ callbackUrl: URL_A, headers: { 'Content-Type': 'text/plain' } }, 'headers.Content-Type', /set by the service/],
      [{ callbackUrl: URL_A, headers: { host: 'evil.example' } }, 'headers.host', /set by the service/],
      [{ callbackUrl: URL_A, headers: { 'user-agent': 'x' } }, 'headers.user-agent', /set by the service/],
      [{ callbackUrl: URL_A, headers: { 'content-length': '1' } }, 'headers.content-length', /set by the service/],
      [{ callbackUrl: URL_A, headers: ['X-A'] }, 'headers', /object/],
      [{ callbackUrl: URL_A, headers: { 'X-A': 5 } }, 'headers.X-A', /string/],
      // What the HTTP client (undici) refuses to send: accepted, every attempt would fail as "network".
      [{ callbackUrl: URL_A, headers: { Expect: '100-continue' } }, 'headers.Expect', /connection/],
      [{ callbackUrl: URL_A, headers: { 'Keep-Alive': 'timeout=5' } }, 'headers.Keep-Alive', /connection/],
      [{ callbackUrl: URL_A, headers: { Upgrade: 'h2c' } }, 'headers.Upgrade', /connection/],
      [{ callbackUrl: URL_A, headers: { 'transfer-encoding': 'chunked' } }, 'headers.transfer-encoding', /connection/],
      [{ callbackUrl: URL_A, headers: { Connection: 'close' } }, 'headers.Connection', /connection/],
      [{ callbackUrl: URL_A, headers: { 'X-Token': 'caf\u0101' } }, 'headers.X-Token', /above U\+00FF/],
      [{ callbackUrl: URL_A, headers: { 'X-Token': 'price \u20ac' } }, 'headers.X-Token', /above U\+00FF/],
      [{ callbackUrl: URL_A, headers: { 'X-Token': 'emoji \u{1F600}' } }, 'headers.X-Token', /above U\+00FF/],
      [{ callbackUrl: URL_A, headers: { 'X-Token': 'a\rb' } }, 'headers.X-Token', /control characters/],
      [{ callbackUrl: URL_A, headers: { 'X-Token': 'a\nInjected: 1' } }, 'headers.X-Token', /control characters/],
      [{ callbackUrl: URL_A, headers: { 'X-Token': 'bell\u0007' } }, 'headers.X-Token', /control characters/],
      [{ callbackUrl: URL_A, headers: { 'X-Token': 'del\u007f' } }, 'headers.X-Token', /control characters/],
      [{ callbackUrl: URL_A, headers: { 'X-Token': 'nul\u0000' } }, 'headers.X-Token', /NUL|control characters/],
      [{ callbackUrl: URL_A, headers: { 'X Token': 'v' } }, 'headers', /not a valid header name/],
      [{ callbackUrl: URL_A, headers: { 'X:Token': 'v' } }, 'headers', /not a valid header name/],
      [{ callbackUrl: URL_A, headers: { 'X-T\u00f6ken': 'v' } }, 'headers', /not a valid header name/],
      [{ callbackUrl: URL_A, headers: { '': 'v' } }, 'headers', /not a valid header name/],
      [{ callbackUrl: URL_A, enabled: 'yes' }, 'enabled', /boolean/],
      [{ callbackUrl: URL_A, secret: 'mine' }, 'secret', /not a known field/],
    ])('%p -> 400 naming %s', async (body, field, message) => {
      const before = await api.tableCounts();
      const problem = expectProblem(await api.http.put(`${base}/5`).set(partner.auth).send(body), 400, 'validation_failed');
      expect(problem.errors).toEqual(expect.arrayContaining([{ field, message: expect.stringMatching(message) }]));
      expect(problem.detail).toContain(field);
      expect(await api.tableCounts()).toEqual(before);
    });

    it('refuses malformed JSON and oversized bodies without storing anything', async () => {
      const before = await api.tableCounts();
      expectProblem(
        await api.http.put(`${base}/5`).set(partner.auth).set('Content-Type', 'application/json').send('{"callbackUrl":'),
        400,
        'malformed_json',
      );
      expectProblem(
        await api.http
          .put(`${base}/5`)
          .set(partner.auth)
          .send({ callbackUrl: URL_A, headers: { 'X-Big': 'x'.repeat(270_000) } }),
        413,
        'payload_too_large',
      );
      expect(await api.tableCounts()).toEqual(before);
    });

    it('allows http and loopback URLs only when ALLOW_INSECURE_CALLBACKS=true', async () => {
      const insecure = await startApiTestApp({ ALLOW_INSECURE_CALLBACKS: 'true' });
      try {
        const local = await insecure.createPartner();
        await insecure.http
          .put(`/${local.partnerUniqueId}/callbacks/5`)
          .set(local.auth)
          .send({ callbackUrl: 'http://127.0.0.1:4000/hook' })
          .expect(201);
      } finally {
        await insecure.close();
      }
    });
  });

  it('starts a callback deleted and created again with a closed circuit, leaving in-flight leases alone', async () => {
    const redis = api.app.get(ApiRedis).client;
    const keys = callbackKeys(api.environment.config, partner.partnerUniqueId, 6);
    // The state a worker leaves behind for a dead endpoint: failures over the threshold, a probe, a lease.
    const openCircuit = () =>
      redis
        .multi()
        .hset(keys.circuit, 'failures', '50', 'openUntil', String(Date.now() + 600_000))
        .set(keys.probe, 'n-probe', 'PX', 600_000)
        .zadd(keys.inFlight, Date.now() + 60_000, 'n-in-flight')
        .exec();
    const health = async () => (await api.http.get(`${base}/6`).set(partner.auth).expect(200)).body.health;

    await api.http.put(`${base}/6`).set(partner.auth).send({ callbackUrl: URL_A }).expect(201);
    await openCircuit();
    expect(await health()).toBe('open');
    await api.http.delete(`${base}/6`).set(partner.auth).expect(204);
    expect(await redis.exists(keys.circuit, keys.probe)).toBe(0);
    expect(await redis.zscore(keys.inFlight, 'n-in-flight')).not.toBeNull();
    await api.http.put(`${base}/6`).set(partner.auth).send({ callbackUrl: URL_A }).expect(201);
    expect(await health()).toBe('ok');

    // A failure counted after the delete (an attempt still in flight) does not survive the create either.
    await api.http.delete(`${base}/6`).set(partner.auth).expect(204);
    await openCircuit();
    await api.http.put(`${base}/6`).set(partner.auth).send({ callbackUrl: URL_A }).expect(201);
    expect(await health()).toBe('ok');
    expect(await redis.zscore(keys.inFlight, 'n-in-flight')).not.toBeNull();
  });

  it('keeps exactly one callback per partner and type under concurrent first PUTs', async () => {
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        api.http
          .put(`${base}/6`)
          .set(partner.auth)
          .send({ callbackUrl: `${URL_A}?n=${index}` }),
      ),
    );
    expect(responses.map((response) => response.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    const rows = (await api.dataSource.query('SELECT count(*)::int AS count FROM callbacks WHERE partner_id = $1', [
      partner.partnerUniqueId,
    ])) as Array<{
      count: number;
    }>;
    expect(rows[0].count).toBe(1);
  });
});
