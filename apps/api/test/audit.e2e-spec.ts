import { randomUUID } from 'node:crypto';
import { AUDIT_ACTIONS, type AuditEntryDto, type AuditPageDto } from '@callbacks/contracts';
import { csrfTokenFor, hashPortalToken } from '../src/auth/portal-session-cookie';
import { ADMIN, type ApiTestApp, expectProblem, startApiTestApp } from './api-test-app';

const URL_A = 'https://partner.example.com/hooks/a';
const URL_B = 'https://partner.example.com/hooks/b';
/** What the sign-in page's button sends: a form POST from our own origin. */
const SAME_ORIGIN = { Host: '127.0.0.1', Origin: 'http://127.0.0.1', 'Sec-Fetch-Site': 'same-origin' };

interface SignedIn {
  sessionId: string;
  sessionToken: string;
  headers: { Cookie: string; 'X-CSRF-Token': string };
}

/** Signs in with a portal link the way the sign-in page's button does. */
async function signIn(api: ApiTestApp, linkUrl: string): Promise<SignedIn> {
  const response = await api.http.post(new URL(linkUrl).pathname).set(SAME_ORIGIN).type('form').send('').expect(303);
  const cookie = (response.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
  const sessionToken = cookie.split('=')[1];
  const [{ id: sessionId }] = (await api.dataSource.query(`SELECT id FROM portal_sessions WHERE token_hash = $1`, [
    hashPortalToken(sessionToken),
  ])) as Array<{ id: string }>;
  return { sessionId, sessionToken, headers: { Cookie: cookie, 'X-CSRF-Token': csrfTokenFor(sessionToken) } };
}

/** Every entry at or after `since`, following nextCursor page by page. */
async function allEntries(api: ApiTestApp, query: Record<string, string>): Promise<AuditEntryDto[]> {
  const entries: AuditEntryDto[] = [];
  let cursor: string | null = null;
  do {
    const { body } = (await api.http
      .get('/admin/audit')
      .query({ ...query, limit: '3', ...(cursor ? { cursor } : {}) })
      .set(ADMIN)
      .expect(200)) as { body: AuditPageDto };
    entries.push(...body.items);
    cursor = body.nextCursor;
  } while (cursor !== null);
  return entries;
}

describe('audit trail (API)', () => {
  let api: ApiTestApp;

  beforeAll(async () => {
    api = await startApiTestApp();
  });
  afterAll(() => api.close());

  it('records every change of access or destination once, with its actor, and keeps it after the partner is erased', async () => {
    const since = new Date(Date.now() - 1_000).toISOString();
    const partner = await api.createPartner();
    const partnerId = partner.partnerUniqueId;
    const firstKeyId = (
      (await api.dataSource.query(`SELECT id FROM api_keys WHERE partner_id = $1`, [partnerId])) as Array<{ id: string }>
    )[0].id;
    const { body: secondKey } = await api.http.post(`/admin/partners/${partnerId}/api-keys`).set(ADMIN).expect(201);

    const { body: link } = await api.http.post(`/${partnerId}/portal-links`).set(partner.auth).expect(201);
    const { sessionId, sessionToken, headers: asSession } = await signIn(api, link.url);

    const created = await api.http.put(`/${partnerId}/callbacks/5`).set(partner.auth).send({ callbackUrl: URL_A }).expect(201);
    const updated = await api.http
      .put(`/${partnerId}/callbacks/5`)
      .set(asSession)
      .set('X-Request-Id', 'audit-e2e-update')
      .send({ callbackUrl: URL_B });
    expect(updated.status).toBe(200);
    await api.http.put(`/${partnerId}/callbacks/5`).set(partner.auth).send({ callbackUrl: URL_B, enabled: false }).expect(200);
    await api.http.put(`/${partnerId}/callbacks/5`).set(partner.auth).send({ callbackUrl: URL_B, enabled: true }).expect(200);
    const { body: revealed } = await api.http.get(`/${partnerId}/callbacks/5/secret`).set(partner.auth).expect(200);
    const { body: rotated } = await api.http.post(`/${partnerId}/callbacks/5/secret/rotate`).set(partner.auth).expect(200);
    const processUniqueId = `PRC-${randomUUID()}`;
    const { body: published } = await api.http
      .post('/v1/notifications')
      .set(ADMIN)
      .send({ partnerUniqueId: partnerId, notificationTypeId: 5, payload: { processUniqueId, status: 'approved' } })
      .expect(202);
    await api.http.post(`/${partnerId}/notifications/${published.notificationId}/redeliver`).set(partner.auth).expect(202);
    await api.http.post(`/${partnerId}/callbacks/5/recover`).set(partner.auth).send({ since }).expect(202);
    await api.http.post('/portal/sign-out').set(asSession).expect(303);
    // Two more sessions: one from a link of the second key, one from the operator's.
    const { body: keyLink } = await api.http
      .post(`/${partnerId}/portal-links`)
      .set({ Authorization: `Bearer ${secondKey.apiKey as string}` })
      .expect(201);
    const keySession = await signIn(api, keyLink.url as string);
    const { body: operatorLink } = await api.http.post(`/admin/partners/${partnerId}/portal-links`).set(ADMIN).expect(201);
    const operatorSession = await signIn(api, operatorLink.url as string);
    await api.http.delete(`/${partnerId}/callbacks/5`).set(partner.auth).expect(204);
    // Revoking the second key ends the session its link started; the operator then ends the rest.
    await api.http.delete(`/admin/partners/${partnerId}/api-keys/${secondKey.apiKeyId}`).set(ADMIN).expect(204);
    await api.http.get(`/${partnerId}/callbacks`).set(keySession.headers).expect(401);
    await api.http.get(`/${partnerId}/callbacks`).set(operatorSession.headers).expect(200);
    await api.http.delete(`/admin/partners/${partnerId}/portal-sessions`).set(ADMIN).expect(204);
    await api.http.get(`/${partnerId}/callbacks`).set(operatorSession.headers).expect(401);
    await api.http.post('/admin/erasures').set(ADMIN).send({ processUniqueId }).expect(200);
    await api.http.delete(`/admin/partners/${partnerId}`).set(ADMIN).expect(204);

    const operator = { kind: 'operator', id: null };
    const firstKey = { kind: 'api_key', id: firstKeyId };
    const secondKeyActor = { kind: 'api_key', id: secondKey.apiKeyId };
    const session = { kind: 'portal_session', id: sessionId };
    const keySessionActor = { kind: 'portal_session', id: keySession.sessionId };
    const operatorSessionActor = { kind: 'portal_session', id: operatorSession.sessionId };
    const entries = await allEntries(api, { since });
    const type5 = 'notification_type:5';
    expect(entries.map(({ action, actor, partnerUniqueId, target }) => ({ action, actor, partnerUniqueId, target }))).toEqual([
      { action: 'api_key_issued', actor: operator, partnerUniqueId: partnerId, target: `api_key:${firstKeyId}` },
      { action: 'api_key_issued', actor: operator, partnerUniqueId: partnerId, target: `api_key:${secondKey.apiKeyId}` },
      { action: 'portal_link_created', actor: firstKey, partnerUniqueId: partnerId, target: null },
      { action: 'portal_session_started', actor: session, partnerUniqueId: partnerId, target: `portal_session:${sessionId}` },
      { action: 'callback_created', actor: firstKey, partnerUniqueId: partnerId, target: type5 },
      { action: 'callback_updated', actor: session, partnerUniqueId: partnerId, target: type5 },
      { action: 'callback_disabled', actor: firstKey, partnerUniqueId: partnerId, target: type5 },
      { action: 'callback_enabled', actor: firstKey, partnerUniqueId: partnerId, target: type5 },
      { action: 'signing_secret_revealed', actor: firstKey, partnerUniqueId: partnerId, target: type5 },
      { action: 'signing_secret_rotated', actor: firstKey, partnerUniqueId: partnerId, target: type5 },
      {
        action: 'notification_redelivered',
        actor: firstKey,
        partnerUniqueId: partnerId,
        target: `notification:${published.notificationId}`,
      },
      { action: 'notifications_recovered', actor: firstKey, partnerUniqueId: partnerId, target: type5 },
      { action: 'portal_session_ended', actor: session, partnerUniqueId: partnerId, target: `portal_session:${sessionId}` },
      { action: 'portal_link_created', actor: secondKeyActor, partnerUniqueId: partnerId, target: null },
      {
        action: 'portal_session_started',
        actor: keySessionActor,
        partnerUniqueId: partnerId,
        target: `portal_session:${keySession.sessionId}`,
      },
      { action: 'portal_link_created', actor: operator, partnerUniqueId: partnerId, target: null },
      {
        action: 'portal_session_started',
        actor: operatorSessionActor,
        partnerUniqueId: partnerId,
        target: `portal_session:${operatorSession.sessionId}`,
      },
      { action: 'callback_deleted', actor: firstKey, partnerUniqueId: partnerId, target: type5 },
      { action: 'api_key_revoked', actor: operator, partnerUniqueId: partnerId, target: `api_key:${secondKey.apiKeyId}` },
      // The session the revoked key's link started ends with it, the revoker its actor.
      { action: 'portal_session_ended', actor: operator, partnerUniqueId: partnerId, target: `portal_session:${keySession.sessionId}` },
      // DELETE /admin/partners/{id}/portal-sessions: the operator ends the rest.
      {
        action: 'portal_session_ended',
        actor: operator,
        partnerUniqueId: partnerId,
        target: `portal_session:${operatorSession.sessionId}`,
      },
      { action: 'case_erased', actor: operator, partnerUniqueId: null, target: `process:${processUniqueId}` },
      { action: 'partner_erased', actor: operator, partnerUniqueId: partnerId, target: `partner:${partnerId}` },
    ]);
    // Every action the trail knows appears, once but for the keys, links and sessions above.
    expect(entries.map((entry) => entry.action).sort()).toEqual(
      [
        ...AUDIT_ACTIONS,
        'api_key_issued',
        'portal_link_created',
        'portal_link_created',
        'portal_session_started',
        'portal_session_started',
        'portal_session_ended',
        'portal_session_ended',
      ].sort(),
    );
    const ended = entries.filter((entry) => entry.action === 'portal_session_ended');
    expect(ended.map((entry) => entry.details)).toEqual([
      { reason: 'sign_out' },
      { reason: 'api_key_revoked', apiKeyId: secondKey.apiKeyId },
      { reason: 'ended_by_operator' },
    ]);
    for (const entry of ended.slice(1)) expect(entry.sourceAddress).toEqual(expect.stringMatching(/127\.0\.0\.1|::1/));

    const update = entries.find((entry) => entry.action === 'callback_updated')!;
    expect(update).toMatchObject({
      details: { previousCallbackUrl: URL_A, callbackUrl: URL_B },
      requestId: 'audit-e2e-update',
      sourceAddress: expect.stringMatching(/127\.0\.0\.1|::1/),
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(entries.find((entry) => entry.action === 'callback_disabled')!.details).toEqual({
      previousCallbackUrl: URL_B,
      callbackUrl: URL_B,
    });
    for (const entry of entries) expect(entry.requestId).toEqual(expect.any(String));

    // Ids, never a secret, a key, a cookie or a payload.
    const text = JSON.stringify(entries);
    for (const secret of [
      partner.apiKey,
      secondKey.apiKey,
      sessionToken,
      keySession.sessionToken,
      operatorSession.sessionToken,
      created.body.signingSecret,
      revealed.signingSecret,
      rotated.signingSecret,
    ])
      expect(text).not.toContain(secret);
    expect(text).not.toContain('approved');

    // The partner's own listing holds the same entries, all but the case erasure (which spans partners).
    const ofPartner = await allEntries(api, { partnerUniqueId: partnerId });
    expect(ofPartner.map((entry) => entry.id)).toEqual(entries.filter((entry) => entry.action !== 'case_erased').map((entry) => entry.id));
  });

  it('records one creation and one update for two first PUTs at once', async () => {
    const partner = await api.createPartner();
    const put = (callbackUrl: string) => api.http.put(`/${partner.partnerUniqueId}/callbacks/7`).set(partner.auth).send({ callbackUrl });
    const answers = await Promise.all([put(URL_A), put(URL_B)]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 201]);
    const entries = (await allEntries(api, { partnerUniqueId: partner.partnerUniqueId })).filter(
      (entry) => entry.target === 'notification_type:7',
    );
    expect(entries.map((entry) => entry.action)).toEqual(['callback_created', 'callback_updated']);
  });

  it('records nothing when the change rolls back', async () => {
    const partner = await api.createPartner();
    const [{ count: before }] = (await api.dataSource.query(`SELECT count(*)::int AS count FROM audit_entries`)) as Array<{
      count: number;
    }>;
    // auth without its client secret: PostgreSQL refuses the row inside the transaction that would have audited it.
    const refused = await api.http
      .put(`/${partner.partnerUniqueId}/callbacks/6`)
      .set(partner.auth)
      .send({ callbackUrl: URL_A, auth: { type: 'oauth2_client_credentials', tokenUrl: 'https://auth.example.com/token', clientId: 'c' } });
    expectProblem(refused, 400, 'validation_failed');
    expectProblem(
      await api.http.delete(`/admin/partners/${partner.partnerUniqueId}/api-keys/${randomUUID()}`).set(ADMIN),
      404,
      'api_key_not_found',
    );
    const [{ count: after }] = (await api.dataSource.query(`SELECT count(*)::int AS count FROM audit_entries`)) as Array<{ count: number }>;
    expect(after).toBe(before);
  });

  it('is refused with problem+json naming the field for a bad query, and to a partner key', async () => {
    const partner = await api.createPartner();
    for (const [query, field] of [
      [{ partnerUniqueId: 'nope' }, 'partnerUniqueId'],
      [{ since: 'yesterday' }, 'since'],
      [{ limit: '0' }, 'limit'],
      [{ limit: '201' }, 'limit'],
      [{ cursor: 'not-a-cursor' }, 'cursor'],
      [{ actor: 'x' }, 'actor'],
    ] as const) {
      const problem = expectProblem(await api.http.get('/admin/audit').query(query).set(ADMIN), 400, 'validation_failed');
      expect(problem.errors?.map((error) => error.field)).toEqual([field]);
    }
    expectProblem(await api.http.get('/admin/audit').set(partner.auth), 403, 'forbidden');
    expectProblem(await api.http.get('/admin/audit'), 401, 'unauthorized');
  });
});

describe('audit trail: the source address and TRUST_PROXY', () => {
  let trusting: ApiTestApp;
  let direct: ApiTestApp;

  beforeAll(async () => {
    [trusting, direct] = await Promise.all([startApiTestApp({ TRUST_PROXY: 'loopback' }), startApiTestApp()]);
  });
  afterAll(() => Promise.all([trusting?.close(), direct?.close()]));

  /** Issues a key through a "load balancer" naming the client 203.0.113.9; returns the entry's sourceAddress. */
  async function sourceAddressOfKeyIssued(api: ApiTestApp): Promise<string | null> {
    const partner = await api.createPartner();
    const { body: key } = await api.http
      .post(`/admin/partners/${partner.partnerUniqueId}/api-keys`)
      .set(ADMIN)
      .set('X-Forwarded-For', '203.0.113.9')
      .expect(201);
    const entries = await allEntries(api, { partnerUniqueId: partner.partnerUniqueId });
    return entries.find((entry) => entry.target === `api_key:${key.apiKeyId as string}`)!.sourceAddress;
  }

  it('is the client that X-Forwarded-For names when the connection comes from a trusted proxy', async () => {
    expect(await sourceAddressOfKeyIssued(trusting)).toBe('203.0.113.9');
  });

  it("is the connection's own address without TRUST_PROXY, whatever X-Forwarded-For says", async () => {
    expect(await sourceAddressOfKeyIssued(direct)).toMatch(/127\.0\.0\.1|::1/);
  });
});
