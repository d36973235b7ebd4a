import { TestReceiver } from '@callbacks/testing';
import { ADMIN, type Partner, TestSystem } from './support/system';

/** What a partner or the platform can put in a request, at its worst allowed value. */
describe('intake: payload text, value limit, idempotency scope, search by case', () => {
  let system: TestSystem;
  let receiver: TestReceiver;
  let partner: Partner;

  beforeAll(async () => {
    system = await TestSystem.start();
  });
  beforeEach(async () => {
    receiver = await TestReceiver.start();
    partner = await system.createPartner();
  });
  afterEach(() => receiver.close());
  afterAll(() => system.close());

  const rowCount = async (table: string) => Number((await system.dataSource.query(`SELECT count(*) AS n FROM ${table}`))[0].n);
  const publish = (body: string | object, key?: string) => {
    const call = system.http.post('/v1/notifications').set(ADMIN).set('Content-Type', 'application/json');
    return (key ? call.set('Idempotency-Key', key) : call).send(body);
  };

  it('sends the payload byte for byte: integers above 2^53, number spelling, duplicate keys and spacing', async () => {
    await system.registerCallback(partner, 5, receiver.url);
    const payload = '{ "processUniqueId" : "PRC-7", "amount": 12345678901234567890123, "rate": 1.50E+1, "d": 1, "d": 2 }';
    const body = `{"partnerUniqueId":"${partner.partnerUniqueId}","notificationTypeId":5,"payload":${payload}}`;
    const { body: accepted } = await publish(body).expect(202);
    const [delivery] = await receiver.waitFor(1);
    expect(delivery.body.endsWith(`"data":${payload}}`)).toBe(true);
    expect(delivery.body).toContain('"partnerUniqueId"');
    await system.waitForStatus(partner, accepted.notificationId, 'delivered');
  });

  it(`refuses a payload of more than 10,000 JSON values with 422, storing nothing (echo and platform event)`, async () => {
    await system.registerCallback(partner, 5, receiver.url);
    // The shape that crashed workers: 256 KiB of empty objects is about 87,000 values.
    const items = Array.from({ length: 80_000 }, () => '{}').join(',');
    const before = await rowCount('notifications');
    const echo = await system.http
      .post(`/v1/callbacks/echo/${partner.partnerUniqueId}/5`)
      .set(partner.auth)
      .set('Content-Type', 'application/json')
      .send(`{"processUniqueId":"P","items":[${items}]}`)
      .expect(422);
    expect(echo.body).toMatchObject({ code: 'payload_too_complex', errors: [{ field: 'body' }] });
    expect(echo.body.detail).toMatch(/10000 JSON values/);
    const event = await publish(
      `{"partnerUniqueId":"${partner.partnerUniqueId}","notificationTypeId":5,"payload":{"processUniqueId":"P","items":[${items}]}}`,
    ).expect(422);
    expect(event.body).toMatchObject({ code: 'payload_too_complex', errors: [{ field: 'payload' }] });
    expect(event.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(await rowCount('notifications')).toBe(before);

    // Exactly at the limit it is accepted: the object, its id, the array and 9,997 items are 10,000 values.
    const atLimit = Array.from({ length: 9_997 }, () => '0').join(',');
    await system.http
      .post(`/v1/callbacks/echo/${partner.partnerUniqueId}/5`)
      .set(partner.auth)
      .set('Content-Type', 'application/json')
      .send(`{"processUniqueId":"P","items":[${atLimit}]}`)
      .expect(202);
  });

  it('stores what it validated: a leading byte order mark is dropped, a charset other than UTF-8 is 415', async () => {
    await system.registerCallback(partner, 5, receiver.url);
    const payload = '{"payload":{"evil":true},"processUniqueId":"P"}';
    const body = `\uFEFF{"partnerUniqueId":"${partner.partnerUniqueId}","notificationTypeId":5,"payload":${payload}}`;
    await publish(body).expect(202);
    const [delivery] = await receiver.waitFor(1);
    expect(delivery.body.endsWith(`"data":${payload}}`)).toBe(true);

    const before = await rowCount('notifications');
    const utf7 = await system.http
      .post(`/v1/callbacks/echo/${partner.partnerUniqueId}/5`)
      .set(partner.auth)
      .set('Content-Type', 'application/json; charset=utf-7')
      .send('{"simulationUniqueId+ACI-:+ACI-S+ACI-,+ACI-x":1}')
      .expect(415);
    expect(utf7.body.code).toBe('unsupported_media_type');
    await system.http
      .post(`/v1/callbacks/echo/${partner.partnerUniqueId}/5`)
      .set(partner.auth)
      .set('Content-Type', 'application/json; charset=UTF-8')
      .send('{"processUniqueId":"P"}')
      .expect(202);
    expect(await rowCount('notifications')).toBe(before + 1);
  });

  it('binds an Idempotency-Key to its request: another partner, type or payload is 422, the same request replays', async () => {
    const other = await system.createPartner('Other');
    await system.registerCallback(partner, 5, receiver.url);
    await system.registerCallback(other, 5, receiver.url);
    const event = (partnerUniqueId: string, processUniqueId = 'P-1') => ({
      partnerUniqueId,
      notificationTypeId: 5,
      payload: { processUniqueId },
    });
    const first = await publish(event(partner.partnerUniqueId), 'shared-key').expect(202);
    const before = await rowCount('notifications');

    const second = await publish(event(other.partnerUniqueId), 'shared-key').expect(422);
    expect(second.body).toMatchObject({ code: 'idempotency_key_reused', errors: [{ field: 'Idempotency-Key' }] });
    await publish(event(partner.partnerUniqueId, 'P-2'), 'shared-key').expect(422);
    await publish({ ...event(partner.partnerUniqueId), notificationTypeId: 6 }, 'shared-key').expect(422);
    expect(await rowCount('notifications')).toBe(before);

    const replay = await publish(event(partner.partnerUniqueId), 'shared-key').expect(202);
    expect(replay.body).toEqual(first.body);
    // Partner B, with its own key, is notified.
    const forOther = await publish(event(other.partnerUniqueId), 'other-key').expect(202);
    expect(forOther.body.notificationId).not.toBe(first.body.notificationId);
    await receiver.waitFor(2);
  });

  it('lists the deliveries about one case by processUniqueId or simulationUniqueId', async () => {
    await system.registerCallback(partner, 5, receiver.url);
    await system.registerCallback(partner, 6, receiver.url);
    const send = (type: number, payload: object) =>
      system.http.post(`/v1/callbacks/echo/${partner.partnerUniqueId}/${type}`).set(partner.auth).send(payload).expect(202);
    const a1 = (await send(5, { processUniqueId: 'PRC-A' })).body.notificationId;
    await send(5, { processUniqueId: 'PRC-B' });
    const a2 = (await send(6, { processUniqueId: 'PRC-A' })).body.notificationId;
    const s1 = (await send(6, { simulationUniqueId: 'PRC-A' })).body.notificationId;
    const base = `/${partner.partnerUniqueId}/notifications`;

    const byProcess = await system.http.get(`${base}?processUniqueId=PRC-A`).set(partner.auth).expect(200);
    expect(byProcess.body.items.map((item: { notificationId: string }) => item.notificationId)).toEqual([a2, a1]);
    expect(byProcess.body.items[0]).toMatchObject({ processUniqueId: 'PRC-A', simulationUniqueId: null });
    const bySimulation = await system.http.get(`${base}?simulationUniqueId=PRC-A`).set(partner.auth).expect(200);
    expect(bySimulation.body.items.map((item: { notificationId: string }) => item.notificationId)).toEqual([s1]);
    const combined = await system.http.get(`${base}?processUniqueId=PRC-A&notificationTypeId=5`).set(partner.auth).expect(200);
    expect(combined.body.items.map((item: { notificationId: string }) => item.notificationId)).toEqual([a1]);

    const other = await system.createPartner('Other');
    expect(
      (await system.http.get(`/${other.partnerUniqueId}/notifications?processUniqueId=PRC-A`).set(other.auth).expect(200)).body.items,
    ).toEqual([]);
    const tooLong = await system.http
      .get(`${base}?processUniqueId=${'x'.repeat(129)}`)
      .set(partner.auth)
      .expect(400);
    expect(tooLong.body.errors[0].field).toBe('processUniqueId');
    await system.http.get(`${base}?simulationUniqueId=`).set(partner.auth).expect(400);
    await receiver.waitFor(4);
  });
});
