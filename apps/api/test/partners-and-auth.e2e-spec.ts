import { createHash } from 'node:crypto';
import { ADMIN, type ApiTestApp, expectProblem, startApiTestApp } from './api-test-app';

describe('admin partners, API keys and the auth matrix', () => {
  let api: ApiTestApp;

  beforeAll(async () => {
    api = await startApiTestApp();
  });
  afterAll(() => api.close());

  it('creates a partner and shows its API key once, storing only a hash', async () => {
    const response = await api.http.post('/admin/partners').set(ADMIN).send({ name: 'Acme' }).expect(201);
    expect(response.body).toEqual({
      partnerUniqueId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'Acme',
      apiKey: expect.stringMatching(/^pck_[A-Za-z0-9_-]{65}$/),
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    const rows = (await api.dataSource.query('SELECT key_hash, key_prefix FROM api_keys WHERE partner_id = $1', [
      response.body.partnerUniqueId,
    ])) as Array<{
      key_hash: string;
      key_prefix: string;
    }>;
    expect(rows).toHaveLength(1);
    expect(rows[0].key_hash).toBe(createHash('sha256').update(response.body.apiKey).digest('hex'));
    expect(JSON.stringify(await api.dataSource.query('SELECT * FROM api_keys'))).not.toContain(response.body.apiKey);
  });

  it.each([
    [{}, 'name'],
    [{ name: '' }, 'name'],
    [{ name: 42 }, 'name'],
    [{ name: 'x'.repeat(201) }, 'name'],
    [{ name: 'Acme', plan: 'gold' }, 'plan'],
  ])('refuses partner body %p naming %s, storing nothing', async (body, field) => {
    const before = await api.tableCounts();
    const problem = expectProblem(await api.http.post('/admin/partners').set(ADMIN).send(body), 400, 'validation_failed');
    expect(problem.errors?.map((error) => error.field)).toContain(field);
    expect(problem.detail).toContain(field);
    expect(await api.tableCounts()).toEqual(before);
  });

  it('issues further keys that work alongside the first, and revokes one without touching the others', async () => {
    const partner = await api.createPartner();
    const issued = await api.http.post(`/admin/partners/${partner.partnerUniqueId}/api-keys`).set(ADMIN).expect(201);
    expect(issued.body).toEqual({ apiKeyId: expect.any(String), apiKey: expect.stringMatching(/^pck_/) });
    const second = { Authorization: `Bearer ${issued.body.apiKey}` };
    await api.http.get(`/${partner.partnerUniqueId}/callbacks`).set(partner.auth).expect(200);
    await api.http.get(`/${partner.partnerUniqueId}/callbacks`).set(second).expect(200);

    await api.http.delete(`/admin/partners/${partner.partnerUniqueId}/api-keys/${issued.body.apiKeyId}`).set(ADMIN).expect(204);
    expectProblem(await api.http.get(`/${partner.partnerUniqueId}/callbacks`).set(second), 401, 'unauthorized');
    await api.http.get(`/${partner.partnerUniqueId}/callbacks`).set(partner.auth).expect(200);
    expectProblem(
      await api.http.delete(`/admin/partners/${partner.partnerUniqueId}/api-keys/${issued.body.apiKeyId}`).set(ADMIN),
      404,
      'api_key_not_found',
    );
  });

  it("remembers a key for at most 5 s: a key revoked behind this API replica's back is refused within that time", async () => {
    const partner = await api.createPartner();
    const list = () => api.http.get(`/${partner.partnerUniqueId}/callbacks`).set(partner.auth);
    await list().expect(200);
    // The key was looked up, at the latest, during that request: it is remembered until 5 s after its end at most.
    const rememberedUntil = Date.now() + 5_000;
    // As another API replica would: revoke in PostgreSQL, where this process's cache does not hear of it.
    await api.dataSource.query('UPDATE api_keys SET revoked_at = now() WHERE partner_id = $1', [partner.partnerUniqueId]);
    // Within the 5 s the key may still pass (it is remembered); from their end on it must not.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, rememberedUntil - Date.now()) + 1));
    expectProblem(await list(), 401, 'unauthorized');
  });

  it('answers 404 for key operations on an unknown partner and 400 for malformed ids', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    expectProblem(await api.http.post(`/admin/partners/${unknown}/api-keys`).set(ADMIN), 404, 'partner_not_found');
    expectProblem(await api.http.post('/admin/partners/not-a-uuid/api-keys').set(ADMIN), 400, 'invalid_partner_id');
    const partner = await api.createPartner();
    const problem = expectProblem(
      await api.http.delete(`/admin/partners/${partner.partnerUniqueId}/api-keys/42`).set(ADMIN),
      400,
      'validation_failed',
    );
    expect(problem.errors).toEqual([{ field: 'apiKeyId', message: 'must be a UUID' }]);
  });

  describe('auth matrix', () => {
    it('admin routes: 401 without or with a wrong key, 403 for a partner key, never the key in a query string', async () => {
      const partner = await api.createPartner();
      const create = () => api.http.post('/admin/partners').send({ name: 'Other' });
      const missing = expectProblem(await create(), 401, 'unauthorized');
      expect(missing.detail).toMatch(/Authorization/);
      expectProblem(await create().set({ Authorization: 'Bearer wrong-key' }), 401, 'unauthorized');
      expectProblem(await create().set({ Authorization: `Basic ${Buffer.from('admin:x').toString('base64')}` }), 401, 'unauthorized');
      expectProblem(await create().set(partner.auth), 403, 'forbidden');
      expectProblem(
        await api.http.post(`/admin/partners?apiKey=${encodeURIComponent(ADMIN.Authorization.slice(7))}`).send({ name: 'x' }),
        401,
        'unauthorized',
      );
    });

    it('partner routes: own key 200, another partner’s key 403 (existing or not), operator key 200', async () => {
      const [acme, globex] = [await api.createPartner('Acme'), await api.createPartner('Globex')];
      await api.http.get(`/${acme.partnerUniqueId}/callbacks`).set(acme.auth).expect(200);
      expectProblem(await api.http.get(`/${acme.partnerUniqueId}/callbacks`).set(globex.auth), 403, 'forbidden');
      expectProblem(await api.http.get('/00000000-0000-4000-8000-000000000000/callbacks').set(globex.auth), 403, 'forbidden');
      await api.http.get(`/${acme.partnerUniqueId}/callbacks`).set(ADMIN).expect(200);
      expectProblem(await api.http.get(`/${acme.partnerUniqueId}/callbacks`), 401, 'unauthorized');
      expectProblem(
        await api.http.get(`/${acme.partnerUniqueId}/callbacks`).set({ Authorization: 'Bearer pck_unknown' }),
        401,
        'unauthorized',
      );
    });

    it('disables admin routes (401) when no operator key is configured', async () => {
      const keyless = await startApiTestApp({ ADMIN_API_KEY: '' });
      try {
        expectProblem(await keyless.http.post('/admin/partners').set(ADMIN).send({ name: 'x' }), 401, 'unauthorized');
      } finally {
        await keyless.close();
      }
    });
  });

  it('answers problem+json for malformed JSON, non-JSON bodies, bodies over 256 KiB and unknown routes', async () => {
    const before = await api.tableCounts();
    const malformed = await api.http.post('/admin/partners').set(ADMIN).set('Content-Type', 'application/json').send('{"name":');
    expectProblem(malformed, 400, 'malformed_json');
    const notAnObject = await api.http.post('/admin/partners').set(ADMIN).set('Content-Type', 'application/json').send('["Acme"]');
    expect(expectProblem(notAnObject, 400, 'validation_failed').errors).toEqual([{ field: 'body', message: 'must be a JSON object' }]);
    expectProblem(
      await api.http.post('/admin/partners').set(ADMIN).set('Content-Type', 'text/plain').send('name=Acme'),
      415,
      'unsupported_media_type',
    );
    const huge = await api.http
      .post('/admin/partners')
      .set(ADMIN)
      .send({ name: 'x'.repeat(300 * 1024) });
    expectProblem(huge, 413, 'payload_too_large');
    expectProblem(await api.http.get('/no/such/route/here'), 404, 'route_not_found');
    expect(await api.tableCounts()).toEqual(before);
  });

  it('serves liveness and the OpenAPI document', async () => {
    await api.http.get('/health').expect(200, { status: 'ok' });
    const docs = await api.http.get('/docs-json').expect(200);
    expect(Object.keys(docs.body.paths)).toEqual(
      expect.arrayContaining(['/admin/partners', '/{partnerUniqueID}/callbacks', '/{partnerUniqueID}/callbacks/{notificationType}']),
    );
    expect(docs.body.components.schemas.PutCallbackDto.properties.callbackUrl.example).toMatch(/^https:/);
    await api.http.get('/docs').expect(200).expect('content-type', /html/);
  });
});
