import { csrfTokenFor } from '../src/auth/portal-session-cookie';
import { ADMIN, type ApiTestApp, expectProblem, startApiTestApp, type TestPartner } from './api-test-app';

const SAME_ORIGIN = { Origin: 'http://127.0.0.1', 'Sec-Fetch-Site': 'same-origin' };

describe('portal sessions belong to the credential that made their link (issue 18)', () => {
  let api: ApiTestApp;

  beforeAll(async () => {
    api = await startApiTestApp();
  });
  afterAll(() => api.close());

  async function link(partner: TestPartner, auth: { Authorization: string } = partner.auth): Promise<string> {
    const path = auth === ADMIN ? `/admin/partners/${partner.partnerUniqueId}/portal-links` : `/${partner.partnerUniqueId}/portal-links`;
    const { body } = await api.http.post(path).set(auth).expect(201);
    return new URL(body.url as string).pathname;
  }

  /** Signs in with a link the way the sign-in page's button does; returns the session's headers for the API. */
  async function signIn(linkPath: string): Promise<{ Cookie: string; 'X-CSRF-Token': string }> {
    const response = await api.http.post(linkPath).set('Host', '127.0.0.1').set(SAME_ORIGIN).type('form').send('').expect(303);
    const cookie = (response.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
    return { Cookie: cookie, 'X-CSRF-Token': csrfTokenFor(cookie.split('=')[1]) };
  }

  async function issueKey(partner: TestPartner): Promise<{ apiKeyId: string; auth: { Authorization: string } }> {
    const { body } = await api.http.post(`/admin/partners/${partner.partnerUniqueId}/api-keys`).set(ADMIN).expect(201);
    return { apiKeyId: body.apiKeyId as string, auth: { Authorization: `Bearer ${body.apiKey as string}` } };
  }

  const callbackBody = { callbackUrl: 'https://partner.example/hooks' };

  it('replays the attack: after the key is revoked, its session and links are refused at every step, and the portal is signed out', async () => {
    const partner = await api.createPartner();
    const id = partner.partnerUniqueId;
    const stolen = await issueKey(partner);
    const session = await signIn(await link(partner, stolen.auth));
    const unusedLink = await link(partner, stolen.auth);
    // Sessions of the operator's links and of other keys are not the stolen key's.
    const operatorSession = await signIn(await link(partner, ADMIN));
    const otherKeySession = await signIn(await link(partner));
    await api.http.put(`/${id}/callbacks/5`).set(session).set(SAME_ORIGIN).set('Host', '127.0.0.1').send(callbackBody).expect(201);

    await api.http.delete(`/admin/partners/${id}/api-keys/${stolen.apiKeyId}`).set(ADMIN).expect(204);

    expectProblem(await api.http.get(`/${id}/callbacks`).set(stolen.auth), 401, 'unauthorized');
    expectProblem(await api.http.get(`/${id}/callbacks`).set(session), 401, 'unauthorized');
    expectProblem(await api.http.post(`/${id}/portal-links`).set(session).set(SAME_ORIGIN).set('Host', '127.0.0.1'), 401, 'unauthorized');
    expectProblem(
      await api.http
        .put(`/${id}/callbacks/5`)
        .set(session)
        .set(SAME_ORIGIN)
        .set('Host', '127.0.0.1')
        .send({ callbackUrl: 'https://attacker.example/hooks' }),
      401,
      'unauthorized',
    );
    const portal = await api.http.get(`/portal/${id}`).set('Cookie', session.Cookie).expect(401);
    expect(portal.text).toContain('You are not signed in');
    expect(portal.headers['set-cookie']?.[0]).toMatch(/^portal_session=;/);
    // Its unused link signs nobody in.
    expect((await api.http.get(unusedLink)).status).toBe(404);
    expect((await api.http.post(unusedLink).set('Host', '127.0.0.1').set(SAME_ORIGIN).type('form').send('')).status).toBe(404);
    const { body: callback } = await api.http.get(`/${id}/callbacks/5`).set(partner.auth).expect(200);
    expect(callback.callbackUrl).toBe(callbackBody.callbackUrl);
    // The others stay signed in.
    await api.http.get(`/${id}/callbacks`).set(operatorSession).expect(200);
    await api.http.get(`/${id}/callbacks`).set(otherKeySession).expect(200);
    const rows = (await api.dataSource.query(`SELECT count(*)::int AS n FROM portal_sessions WHERE api_key_id = $1`, [
      stolen.apiKeyId,
    ])) as Array<{ n: number }>;
    expect(rows[0].n).toBe(0);
  });

  it('a portal session may make neither portal links nor API keys: 403 portal_session_not_allowed', async () => {
    const partner = await api.createPartner();
    const id = partner.partnerUniqueId;
    for (const made of [await link(partner), await link(partner, ADMIN)]) {
      const session = await signIn(made);
      const before = await api.tableContents();
      for (const path of [`/${id}/portal-links`, `/admin/partners/${id}/portal-links`, `/admin/partners/${id}/api-keys`]) {
        const response = await api.http.post(path).set(session).set(SAME_ORIGIN).set('Host', '127.0.0.1');
        expect(expectProblem(response, 403, 'portal_session_not_allowed').detail).toContain('portal session');
      }
      expectProblem(
        await api.http.delete(`/admin/partners/${id}/portal-sessions`).set(session).set(SAME_ORIGIN).set('Host', '127.0.0.1'),
        403,
        'forbidden',
      );
      expect(await api.tableContents()).toEqual(before);
    }
  });

  it('DELETE /admin/partners/{id}/portal-sessions ends every session and unused link of the partner, and only of that partner', async () => {
    const partner = await api.createPartner();
    const other = await api.createPartner('Other');
    const sessions = [await signIn(await link(partner)), await signIn(await link(partner, ADMIN))];
    const unused = [await link(partner), await link(partner, ADMIN)];
    const othersSession = await signIn(await link(other));
    const othersLink = await link(other);

    expectProblem(await api.http.delete(`/admin/partners/${partner.partnerUniqueId}/portal-sessions`).set(partner.auth), 403, 'forbidden');
    expectProblem(await api.http.delete('/admin/partners/not-a-uuid/portal-sessions').set(ADMIN), 400, 'invalid_partner_id');
    expectProblem(
      await api.http.delete('/admin/partners/00000000-0000-4000-8000-000000000000/portal-sessions').set(ADMIN),
      404,
      'partner_not_found',
    );
    await api.http.delete(`/admin/partners/${partner.partnerUniqueId}/portal-sessions`).set(ADMIN).expect(204);

    for (const session of sessions)
      expectProblem(await api.http.get(`/${partner.partnerUniqueId}/callbacks`).set(session), 401, 'unauthorized');
    for (const path of unused) expect((await api.http.get(path)).status).toBe(404);
    await api.http.get(`/${partner.partnerUniqueId}/callbacks`).set(partner.auth).expect(200);
    await api.http.get(`/${other.partnerUniqueId}/callbacks`).set(othersSession).expect(200);
    expect((await api.http.get(othersLink)).status).toBe(200);
  });

  it('the 8 hours run from sign-in: using the session does not renew it', async () => {
    const partner = await api.createPartner();
    const session = await signIn(await link(partner));
    const expiry = async () =>
      (
        (await api.dataSource.query(`SELECT created_at, expires_at FROM portal_sessions WHERE partner_id = $1`, [
          partner.partnerUniqueId,
        ])) as Array<{
          created_at: Date;
          expires_at: Date;
        }>
      )[0];
    const first = await expiry();
    expect(first.expires_at.getTime() - first.created_at.getTime()).toBeGreaterThan(8 * 3600_000 - 2_000);
    expect(first.expires_at.getTime() - first.created_at.getTime()).toBeLessThanOrEqual(8 * 3600_000 + 2_000);
    await api.http.get(`/${partner.partnerUniqueId}/callbacks`).set(session).expect(200);
    await api.http.get(`/portal/${partner.partnerUniqueId}`).set('Cookie', session.Cookie).expect(200);
    expect((await expiry()).expires_at).toEqual(first.expires_at);
  });

  it('opening a link (a mail scanner) changes nothing: the page names the partner, and only a same-origin POST signs in', async () => {
    const partner = await api.createPartner('Acme <Bank> & Co');
    const path = await link(partner);
    const before = await api.tableContents();
    for (let scan = 0; scan < 3; scan += 1) {
      const page = await api.http.get(path).expect(200).expect('content-type', /html/);
      expect(page.headers['set-cookie']).toBeUndefined();
      expect(page.text).toContain('<strong class="partner-name">Acme &lt;Bank&gt; &amp; Co</strong>');
      expect(page.text).toContain(`<form method="post" action="${path}">`);
      expect(page.text).toMatch(/<button type="submit">Sign in<\/button>/);
    }
    await api.http.head(path).expect(200);
    expect(await api.tableContents()).toEqual(before);

    // Another site's form, or a client that does not say where it comes from, is refused; the link stays usable.
    for (const headers of [
      { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://attacker.example' },
      { 'Sec-Fetch-Site': 'same-site', Origin: 'http://other.127.0.0.1' },
      { Origin: 'https://attacker.example' },
      { Origin: 'null' },
      { 'Sec-Fetch-Site': 'none' },
      {},
    ]) {
      const refused = await api.http.post(path).set('Host', '127.0.0.1').set(headers).type('form').send('');
      expect({ headers, status: refused.status, cookie: refused.headers['set-cookie'] }).toEqual({
        headers,
        status: 403,
        cookie: undefined,
      });
      expect(refused.text).toContain('a sign-in from another site is refused');
    }
    expect(await api.tableContents()).toEqual(before);

    const session = await signIn(path);
    const home = await api.http.get(`/portal/${partner.partnerUniqueId}`).set('Cookie', session.Cookie).expect(200);
    expect(home.text).toContain('Signed in as <strong>Acme &lt;Bank&gt; &amp; Co</strong>');
    // Used now: the page says so, and a second POST signs nobody in.
    expect((await api.http.get(path)).status).toBe(410);
    expect((await api.http.post(path).set('Host', '127.0.0.1').set(SAME_ORIGIN).type('form').send('')).status).toBe(410);
  });
});
