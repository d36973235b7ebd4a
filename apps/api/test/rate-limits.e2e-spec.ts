import { ADMIN, type ApiTestApp, expectProblem, startApiTestApp } from './api-test-app';

describe('rate limits per partner API key', () => {
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
});
