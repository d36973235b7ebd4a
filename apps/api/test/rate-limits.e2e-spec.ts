import { csrfTokenFor } from '../src/auth/portal-session-cookie';
import { ADMIN, type ApiTestApp, expectProblem, startApiTestApp } from './api-test-app';

const SAME_ORIGIN = { Host: '127.0.0.1', Origin: 'http://127.0.0.1', 'Sec-Fetch-Site': 'same-origin' };

describe('rate limits per partner (all its keys and portal sessions together)', () => {
  let api: ApiTestApp;

  beforeAll(async () => {
    api = await startApiTestApp({ PARTNER_RATE_LIMIT_PER_MINUTE: '5', ECHO_RATE_LIMIT_PER_MINUTE: '2', ALLOW_INSECURE_CALLBACKS: 'true' });
  });
  afterAll(() => api.close());

  it('answers 429 with Retry-After past the budget, without touching other partners or the operator', async () => {
    const [greedy, polite] = [await api.createPartner('Greedy'), await api.createPartner('Polite')];
    const statuses: number[] = [];
    let limited;
    for (let i = 0; i < 8; i++) {
      const response = await api.http.get(`/${greedy.partnerUniqueId}/callbacks`).set(greedy.auth);
      statuses.push(response.status);
      if (response.status === 429) limited = response;
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses).toContain(429);
    const problem = expectProblem(limited!, 429, 'rate_limited');
    expect(problem.detail).toMatch(/more than 5 requests/);
    expect(Number(limited!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited!.headers['retry-after'])).toBeLessThanOrEqual(60);

    await api.http.get(`/${polite.partnerUniqueId}/callbacks`).set(polite.auth).expect(200);
    for (let i = 0; i < 8; i++) await api.http.get(`/${greedy.partnerUniqueId}/callbacks`).set(ADMIN).expect(200);
  });

  it('gives the echo its own, tighter budget', async () => {
    const partner = await api.createPartner('Echoer');
    await api.http
      .put(`/${partner.partnerUniqueId}/callbacks/5`)
      .set(partner.auth)
      .send({ callbackUrl: 'http://127.0.0.1:9/hook' })
      .expect(201);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push(
        (
          await api.http
            .post(`/v1/callbacks/echo/${partner.partnerUniqueId}/5`)
            .set(partner.auth)
            .send({ processUniqueId: `p${i}` })
        ).status,
      );
    }
    expect(statuses.slice(0, 2)).toEqual([202, 202]);
    expect(statuses).toContain(429);
  });

  it('counts redeliveries against the echo budget, since they send traffic too; a refused one changes nothing', async () => {
    const partner = await api.createPartner('Redeliverer');
    await api.http
      .put(`/${partner.partnerUniqueId}/callbacks/5`)
      .set(partner.auth)
      .send({ callbackUrl: 'http://127.0.0.1:9/hook' })
      .expect(201);
    const { notificationId } = (
      await api.http.post(`/v1/callbacks/echo/${partner.partnerUniqueId}/5`).set(partner.auth).send({ processUniqueId: 'p' }).expect(202)
    ).body;
    const redeliver = (auth: { Authorization: string }) =>
      api.http.post(`/${partner.partnerUniqueId}/notifications/${notificationId}/redeliver`).set(auth);
    const responses = [];
    for (let i = 0; i < 5; i++) responses.push(await redeliver(partner.auth));
    const limited = responses.find((response) => response.status === 429);
    expect(limited).toBeDefined();
    expect(expectProblem(limited!, 429, 'rate_limited').detail).toMatch(/more than 2 echo and redeliver requests/);
    const accepted = responses.filter((response) => response.status === 202).length;
    const [{ delivery_round }] = (await api.dataSource.query('SELECT delivery_round FROM notifications WHERE id = $1', [
      notificationId,
    ])) as Array<{ delivery_round: number }>;
    expect(delivery_round).toBe(accepted);
    // The operator is not limited.
    await redeliver(ADMIN).expect(202);
  });

  it('two portal sessions and two API keys of one partner exhaust one shared echo budget; another partner keeps its own', async () => {
    const partner = await api.createPartner('Many Hands');
    const other = await api.createPartner('Bystander');
    for (const each of [partner, other])
      await api.http
        .put(`/${each.partnerUniqueId}/callbacks/5`)
        .set(each.auth)
        .send({ callbackUrl: 'http://127.0.0.1:9/hook' })
        .expect(201);
    const { body: secondKey } = await api.http.post(`/admin/partners/${partner.partnerUniqueId}/api-keys`).set(ADMIN).expect(201);
    const sessions: Array<Record<string, string>> = [];
    for (let i = 0; i < 2; i++) {
      const { body: link } = await api.http.post(`/${partner.partnerUniqueId}/portal-links`).set(partner.auth).expect(201);
      const signIn = await api.http.post(new URL(link.url).pathname).set(SAME_ORIGIN).type('form').send('').expect(303);
      const cookie = (signIn.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
      sessions.push({ ...SAME_ORIGIN, Cookie: cookie, 'X-CSRF-Token': csrfTokenFor(cookie.split('=')[1]) });
    }
    const callers = [partner.auth, { Authorization: `Bearer ${secondKey.apiKey}` }, ...sessions];
    const echo = (headers: Record<string, string>, i: number) =>
      api.http
        .post(`/v1/callbacks/echo/${partner.partnerUniqueId}/5`)
        .set(headers)
        .send({ processUniqueId: `shared-${i}` });
    // The budget is 2 a minute: each caller's first echo would pass if each had its own.
    const statuses: number[] = [];
    for (const [i, caller] of callers.entries()) statuses.push((await echo(caller, i)).status);
    expect(statuses).toEqual([202, 202, 429, 429]);
    const limited = await echo(callers[3], 9);
    expect(expectProblem(limited, 429, 'rate_limited').detail).toMatch(
      /this partner's API keys and portal sessions together made more than 2/,
    );
    await api.http.post(`/v1/callbacks/echo/${other.partnerUniqueId}/5`).set(other.auth).send({ processUniqueId: 'own' }).expect(202);
  });
});
