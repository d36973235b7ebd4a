import { type ApiTestApp, expectProblem, startApiTestApp, type TestPartner } from './api-test-app';

const URL = 'https://partner.example.com/hooks/status';

describe('a callback delivery policy (PUT delivery)', () => {
  let api: ApiTestApp;
  let partner: TestPartner;
  let base: string;

  beforeAll(async () => {
    api = await startApiTestApp({
      CALLBACK_MAX_IN_FLIGHT: '7',
      DELIVERY_TIMEOUT_MS: '9000',
      DELIVERY_MAX_IN_FLIGHT_LIMIT: '60',
      DELIVERY_RATE_PER_SECOND_LIMIT: '200',
    });
  });
  beforeEach(async () => {
    partner = await api.createPartner();
    base = `/${partner.partnerUniqueId}/callbacks`;
  });
  afterAll(() => api.close());

  it("defaults to today's behaviour, shown with the operator's values", async () => {
    const created = await api.http.put(`${base}/5`).set(partner.auth).send({ callbackUrl: URL }).expect(201);
    expect(created.body.delivery).toEqual({ ordering: 'none', maxInFlight: 7, ratePerSecond: null, timeoutMs: 9000 });
    const partial = await api.http
      .put(`${base}/5`)
      .set(partner.auth)
      .send({ callbackUrl: URL, delivery: { ordering: 'case' } })
      .expect(200);
    expect(partial.body.delivery).toEqual({ ordering: 'case', maxInFlight: 7, ratePerSecond: null, timeoutMs: 9000 });
  });

  it('stores a chosen policy, shows it in GET and the list, and a PUT without it goes back to the defaults', async () => {
    const delivery = { ordering: 'case', maxInFlight: 50, ratePerSecond: 20, timeoutMs: 2500 };
    const created = await api.http.put(`${base}/6`).set(partner.auth).send({ callbackUrl: URL, delivery }).expect(201);
    expect(created.body.delivery).toEqual(delivery);
    expect((await api.http.get(`${base}/6`).set(partner.auth).expect(200)).body.delivery).toEqual(delivery);
    expect((await api.http.get(base).set(partner.auth).expect(200)).body.items[0].delivery).toEqual(delivery);
    const [row] = (await api.dataSource.query(
      `SELECT delivery_ordering, delivery_max_in_flight, delivery_rate_per_second, delivery_timeout_ms FROM callbacks WHERE partner_id = $1`,
      [partner.partnerUniqueId],
    )) as Array<Record<string, unknown>>;
    expect(row).toEqual({ delivery_ordering: 'case', delivery_max_in_flight: 50, delivery_rate_per_second: 20, delivery_timeout_ms: 2500 });

    const nullRate = await api.http
      .put(`${base}/6`)
      .set(partner.auth)
      .send({ callbackUrl: URL, delivery: { ratePerSecond: null } })
      .expect(200);
    expect(nullRate.body.delivery).toEqual({ ordering: 'none', maxInFlight: 7, ratePerSecond: null, timeoutMs: 9000 });
  });

  it.each([
    [{ ordering: 'fifo' }, 'delivery.ordering'],
    [{ maxInFlight: 0 }, 'delivery.maxInFlight'],
    [{ maxInFlight: 101 }, 'delivery.maxInFlight'],
    [{ maxInFlight: 61 }, 'delivery.maxInFlight'], // over DELIVERY_MAX_IN_FLIGHT_LIMIT
    [{ maxInFlight: 2.5 }, 'delivery.maxInFlight'],
    [{ maxInFlight: '10' }, 'delivery.maxInFlight'],
    [{ ratePerSecond: 0 }, 'delivery.ratePerSecond'],
    [{ ratePerSecond: 201 }, 'delivery.ratePerSecond'], // over DELIVERY_RATE_PER_SECOND_LIMIT
    [{ ratePerSecond: 1001 }, 'delivery.ratePerSecond'],
    [{ timeoutMs: 999 }, 'delivery.timeoutMs'],
    [{ timeoutMs: 9001 }, 'delivery.timeoutMs'], // over DELIVERY_TIMEOUT_MS
    [{ retries: 3 }, 'delivery.retries'],
  ])('refuses delivery %j with a 400 naming %s, storing nothing', async (delivery, field) => {
    const before = await api.tableContents();
    const problem = expectProblem(
      await api.http.put(`${base}/5`).set(partner.auth).send({ callbackUrl: URL, delivery }),
      400,
      'validation_failed',
    );
    expect(new Set(problem.errors?.map((error) => error.field))).toEqual(new Set([field]));
    expect(problem.detail).toContain(field);
    expect(await api.tableContents()).toEqual(before);
  });

  it('refuses a delivery that is not an object', async () => {
    const problem = expectProblem(
      await api.http.put(`${base}/5`).set(partner.auth).send({ callbackUrl: URL, delivery: 'case' }),
      400,
      'validation_failed',
    );
    expect(problem.errors?.[0].field).toMatch(/^delivery/);
  });
});
