import { createHash } from 'node:crypto';
import type { AuditPageDto } from '@callbacks/contracts';
import { csrfTokenFor } from '../src/auth/portal-session-cookie';
import { ADMIN, type ApiTestApp, expectProblem, startApiTestApp } from './api-test-app';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** What the sign-in page's button sends: a form POST from our own origin. */
const SAME_ORIGIN = { Host: '127.0.0.1', Origin: 'http://127.0.0.1', 'Sec-Fetch-Site': 'same-origin' };

describe('portal links and sessions (API)', () => {
  let api: ApiTestApp;

  beforeAll(async () => {
    api = await startApiTestApp({ PUBLIC_BASE_URL: 'https://callbacks.example.com/' });
  });
  afterAll(() => api.close());

  it('makes a one-time link for the partner key and for the operator; only its hash is stored', async () => {
    const partner = await api.createPartner();
    for (const [path, auth] of [
      [`/${partner.partnerUniqueId}/portal-links`, partner.auth],
      [`/admin/partners/${partner.partnerUniqueId}/portal-links`, ADMIN],
    ] as const) {
      const before = Date.now();
      const { body } = await api.http.post(path).set(auth).expect(201);
      expect(body).toEqual({
        url: expect.stringMatching(/^https:\/\/callbacks\.example\.com\/portal\/sign-in\/[A-Za-z0-9_-]{65}$/),
        expiresAt: expect.any(String),
      });
      expect(Date.parse(body.expiresAt) - before).toBeGreaterThanOrEqual(15 * 60_000 - 1_000);
      expect(Date.parse(body.expiresAt) - before).toBeLessThanOrEqual(15 * 60_000 + 1_000);
      const token = (body.url as string).split('/').pop()!;
      const rows = (await api.dataSource.query(`SELECT token_hash, used_at FROM portal_links WHERE token_hash = $1`, [
        sha256(token),
      ])) as unknown[];
      expect(rows).toEqual([{ token_hash: sha256(token), used_at: null }]);
      expect(JSON.stringify(await api.dataSource.query(`SELECT * FROM portal_links`))).not.toContain(token);
    }
  });

  it('answers problem+json: 400 bad id, 401 no key, 403 another partner or a partner key on the admin route, 404 no partner', async () => {
    const partner = await api.createPartner();
    const other = await api.createPartner('Other');
    const before = await api.tableCounts();
    expectProblem(await api.http.post('/not-a-uuid/portal-links').set(ADMIN), 400, 'invalid_partner_id');
    expectProblem(await api.http.post(`/${partner.partnerUniqueId}/portal-links`), 401, 'unauthorized');
    expectProblem(await api.http.post(`/${other.partnerUniqueId}/portal-links`).set(partner.auth), 403, 'forbidden');
    expectProblem(await api.http.post(`/admin/partners/${partner.partnerUniqueId}/portal-links`).set(partner.auth), 403, 'forbidden');
    expectProblem(
      await api.http.post('/admin/partners/00000000-0000-4000-8000-000000000000/portal-links').set(ADMIN),
      404,
      'partner_not_found',
    );
    expect(await api.tableCounts()).toEqual(before);
  });

  it('opens a link once into an 8-hour HttpOnly, SameSite=Strict session that acts as the partner on the API', async () => {
    const partner = await api.createPartner();
    const { body } = await api.http.post(`/${partner.partnerUniqueId}/portal-links`).set(partner.auth).expect(201);
    const path = new URL(body.url).pathname;
    await api.http.get(path).expect(200);
    const signIn = await api.http.post(path).set(SAME_ORIGIN).type('form').send('').expect(303).expect('location', '/portal');
    const setCookie = signIn.headers['set-cookie'] as unknown as string[];
    expect(setCookie).toHaveLength(1);
    expect(setCookie[0]).toMatch(/^portal_session=[A-Za-z0-9_-]{65}; Max-Age=28800; Path=\/; Expires=.+; HttpOnly; SameSite=Strict$/);
    const cookie = setCookie[0].split(';')[0];
    await api.http.get('/portal').set('Cookie', cookie).expect(303).expect('location', `/portal/${partner.partnerUniqueId}`);
    await api.http.get(`/${partner.partnerUniqueId}/callbacks`).set('Cookie', cookie).expect(200);
    // A change through the API with the cookie needs the session's CSRF token, like the portal's forms.
    const callback = { callbackUrl: 'https://partner.example/hooks' };
    expectProblem(await api.http.put(`/${partner.partnerUniqueId}/callbacks/5`).set('Cookie', cookie).send(callback), 403, 'forbidden');
    const token = cookie.split('=')[1];
    await api.http
      .put(`/${partner.partnerUniqueId}/callbacks/5`)
      .set('Cookie', cookie)
      .set('X-CSRF-Token', csrfTokenFor(token))
      .send(callback)
      .expect(201);
    // It may not make links: a session must not outlive the credential behind it.
    expectProblem(
      await api.http.post(`/${partner.partnerUniqueId}/portal-links`).set('Cookie', cookie).set('X-CSRF-Token', csrfTokenFor(token)),
      403,
      'portal_session_not_allowed',
    );
    expect((await api.http.get(path)).status).toBe(410);
    expect((await api.http.post(path).set(SAME_ORIGIN).type('form').send('')).status).toBe(410);
    // A new sign-in in the same browser ends the session it had.
    const { body: again } = await api.http.post(`/${partner.partnerUniqueId}/portal-links`).set(partner.auth).expect(201);
    const second = await api.http
      .post(new URL(again.url).pathname)
      .set(SAME_ORIGIN)
      .set('Cookie', cookie)
      .type('form')
      .send('')
      .expect(303);
    const secondCookie = (second.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
    expectProblem(await api.http.get(`/${partner.partnerUniqueId}/callbacks`).set('Cookie', cookie), 401, 'unauthorized');
    await api.http.get(`/${partner.partnerUniqueId}/callbacks`).set('Cookie', secondCookie).expect(200);
    // The audit trail says so: the first session ended, the new one its actor.
    const { body: trail } = await api.http.get('/admin/audit').query({ partnerUniqueId: partner.partnerUniqueId }).set(ADMIN).expect(200);
    const sessions = (trail as AuditPageDto).items.filter((entry) => entry.action.startsWith('portal_session_'));
    expect(sessions.map(({ action, actor, target, details }) => ({ action, actor, target, details }))).toEqual([
      { action: 'portal_session_started', actor: sessions[0].actor, target: `portal_session:${sessions[0].actor.id}`, details: {} },
      {
        action: 'portal_session_ended',
        actor: sessions[2].actor,
        target: `portal_session:${sessions[0].actor.id}`,
        details: { reason: 'signed_in_again' },
      },
      { action: 'portal_session_started', actor: sessions[2].actor, target: `portal_session:${sessions[2].actor.id}`, details: {} },
    ]);
    expect(sessions[2].actor.id).not.toBe(sessions[0].actor.id);
    // After 8 hours the session is over, whatever the cookie says.
    await api.dataSource.query(`UPDATE portal_sessions SET expires_at = now() - interval '1 second' WHERE partner_id = $1`, [
      partner.partnerUniqueId,
    ]);
    expectProblem(await api.http.get(`/${partner.partnerUniqueId}/callbacks`).set('Cookie', secondCookie), 401, 'unauthorized');
  });

  it('without a session, /portal says so; opened from another site it continues from our own origin once', async () => {
    const signedOut = await api.http.get('/portal').expect(401).expect('content-type', /html/);
    expect(signedOut.text).toContain('You are not signed in');
    expect(signedOut.headers['www-authenticate']).toBeUndefined();
    const fromMail = await api.http.get('/portal').set('Sec-Fetch-Site', 'cross-site').expect(200);
    expect(fromMail.text).toContain('<a href="/portal" data-auto-follow="true">');
  });

  it('documents the link routes with problem+json errors, and keeps the HTML pages out of the OpenAPI document', async () => {
    const { body } = await api.http.get('/docs-json').expect(200);
    for (const path of ['/{partnerUniqueID}/portal-links', '/admin/partners/{partnerUniqueID}/portal-links']) {
      const operation = body.paths[path].post;
      expect(operation.responses['201'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/PortalLinkDto' });
      for (const status of ['400', '401', '403', '404'])
        expect(Object.keys(operation.responses[status].content)).toEqual(['application/problem+json']);
      expect(operation.security).toEqual([{ bearer: [] }]);
    }
    expect(Object.keys(body.paths).filter((path) => path.startsWith('/portal'))).toEqual([]);
  });

  it('sets its Content-Security-Policy on portal routes only, and form bodies stay refused outside the portal', async () => {
    const page = await api.http.get('/portal/signed-out').expect(200).expect('content-type', /html/);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['cache-control']).toBe('no-store');
    const script = await api.http
      .get('/portal/assets/portal.js')
      .expect(200)
      .expect('content-type', /javascript/);
    expect(script.text).toContain('datetime');
    await api.http
      .get('/portal/assets/portal.css')
      .expect(200)
      .expect('content-type', /text\/css/);
    expect((await api.http.get('/docs-json')).headers['content-security-policy']).toBeUndefined();
    expectProblem(await api.http.post('/admin/partners').set(ADMIN).type('form').send('name=Acme'), 415, 'unsupported_media_type');
  });
});
