import { Client } from 'pg';
import { Webhook } from 'standardwebhooks';
import { TestReceiver, waitUntil } from '@callbacks/testing';
import { ADMIN, type Partner, TestSystem } from './support/system';

describe('delivery pipeline (API + worker, real PostgreSQL and Redis)', () => {
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

  const echo = (type: number, payload: unknown) =>
    system.http
      .post(`/v1/callbacks/echo/${partner.partnerUniqueId}/${type}`)
      .set(partner.auth)
      .send(payload as object);

  it('delivers an echo that the standardwebhooks package verifies, and logs the attempt', async () => {
    const secret = await system.registerCallback(partner, 5, `${receiver.url}/hooks`, { 'X-Partner-Token': 'abc' });
    const accepted = await echo(5, { processUniqueId: 'PRC-1', status: 'approved' }).expect(202);
    expect(accepted.body).toEqual({ notificationId: expect.any(String), status: 'pending' });

    const [delivery] = await receiver.waitFor(1);
    expect(delivery.path).toBe('/hooks');
    expect(delivery.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': expect.stringMatching(/^partner-callbacks\/\d+\.\d+\.\d+$/),
      'x-partner-token': 'abc',
      'webhook-id': accepted.body.notificationId,
      'webhook-timestamp': expect.stringMatching(/^\d{10}$/),
      'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]+=*$/),
    });
    const envelope = new Webhook(secret).verify(delivery.body, delivery.headers as Record<string, string>);
    expect(envelope).toEqual({
      type: 'status.changed',
      notificationTypeId: 5,
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      partnerUniqueId: partner.partnerUniqueId,
      test: true,
      data: { processUniqueId: 'PRC-1', status: 'approved' },
    });

    const detail = await system.waitForStatus(partner, accepted.body.notificationId, 'delivered');
    expect(detail).toMatchObject({
      status: 'delivered',
      attemptCount: 1,
      test: true,
      nextAttemptAt: null,
      payload: { processUniqueId: 'PRC-1', status: 'approved' },
    });
    expect(detail.attempts).toEqual([
      {
        attempt: 1,
        at: expect.any(String),
        callbackUrl: `${receiver.url}/hooks`,
        statusCode: 200,
        durationMs: expect.any(Number),
        error: null,
        errorDetail: null,
        responseBody: null,
      },
    ]);
  });

  it('keeps the payload exactly as given, key order included', async () => {
    await system.registerCallback(partner, 6, receiver.url);
    const body = '{"simulationUniqueId":"SIM-9","zeta":1,"alpha":{"b":true,"a":[3,2,1]},"note":"ação ✓"}';
    await system.http
      .post(`/v1/callbacks/echo/${partner.partnerUniqueId}/6`)
      .set(partner.auth)
      .set('Content-Type', 'application/json')
      .send(body)
      .expect(202);
    const [delivery] = await receiver.waitFor(1);
    expect(delivery.body).toContain(`"data":${body}`);
  });

  it('answers 400 for both or neither id and 404 without a callback, sending nothing', async () => {
    await system.registerCallback(partner, 5, receiver.url);
    const both = await echo(5, { processUniqueId: 'p', simulationUniqueId: 's' }).expect(400);
    expect(both.body).toMatchObject({
      code: 'validation_failed',
      errors: [{ field: 'processUniqueId', message: expect.stringMatching(/not both/) }],
    });
    const neither = await echo(5, { status: 'x' }).expect(400);
    expect(neither.body.errors[0].message).toMatch(/neither/);
    const missing = await echo(7, { processUniqueId: 'p' }).expect(404);
    expect(missing.body.code).toBe('callback_not_found');
    const { body: log } = await system.http.get(`/${partner.partnerUniqueId}/notifications`).set(partner.auth).expect(200);
    expect(log.items).toEqual([]);
    expect(receiver.requests).toHaveLength(0);
  });

  it('retries 500, 500 then 200 with the same webhook-id, and logs every attempt', async () => {
    receiver.replyWith({ status: 500, body: 'boom' }, 500, 200);
    await system.registerCallback(partner, 5, receiver.url);
    const { body } = await echo(5, { processUniqueId: 'p' }).expect(202);
    const deliveries = await receiver.waitFor(3);
    expect(new Set(deliveries.map((delivery) => delivery.headers['webhook-id']))).toEqual(new Set([body.notificationId]));
    const detail = await system.waitForStatus(partner, body.notificationId, 'delivered');
    expect(detail.attempts.map((attempt) => [attempt.attempt, attempt.statusCode])).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);
    expect(detail.attempts[0].responseBody).toBe('boom');
    expect(detail.attemptCount).toBe(3);
  });

  it('ends failed after the last retry, then redelivers with the same webhook-id', async () => {
    receiver.replyAlways(503);
    await system.registerCallback(partner, 5, receiver.url);
    const { body } = await echo(5, { processUniqueId: 'p' }).expect(202);
    const failed = await system.waitForStatus(partner, body.notificationId, 'failed');
    expect(failed.attempts).toHaveLength(3);
    expect(failed.statusReason).toBe('retries_exhausted');

    receiver.replyAlways(204);
    const redelivered = await system.http
      .post(`/${partner.partnerUniqueId}/notifications/${body.notificationId}/redeliver`)
      .set(partner.auth)
      .expect(202);
    expect(redelivered.body).toEqual({ notificationId: body.notificationId, status: 'pending' });
    const delivered = await system.waitForStatus(partner, body.notificationId, 'delivered');
    expect(delivered.attempts.map((attempt) => attempt.statusCode)).toEqual([503, 503, 503, 204]);
    expect(receiver.deliveriesOf(body.notificationId)).toHaveLength(4);
  });

  it('records a receiver that never answers as a timeout, and a refused connection by name', async () => {
    receiver.replyAlways('hang');
    await system.registerCallback(partner, 5, receiver.url);
    const { body } = await echo(5, { processUniqueId: 'p' }).expect(202);
    const failed = await system.waitForStatus(partner, body.notificationId, 'failed', 15_000);
    expect(failed.attempts.map((attempt) => attempt.error)).toEqual(['timeout', 'timeout', 'timeout']);
    // Each attempt's deadline ended it (the error says timeout), and the sender hung up on a receiver
    // that was still holding the request. (No bound on durationMs: undici's own header timer is coarse.)
    const hungUp = await receiver.waitFor(3);
    await waitUntil(() => hungUp.every((request) => request.abandonedAt !== undefined), 10_000, 'the sender to hang up on all three');

    const closed = await TestReceiver.start();
    const closedUrl = closed.url;
    await closed.close();
    await system.http.put(`/${partner.partnerUniqueId}/callbacks/6`).set(partner.auth).send({ callbackUrl: closedUrl }).expect(201);
    const refused = await echo(6, { processUniqueId: 'p' }).expect(202);
    const refusedDetail = await system.waitForStatus(partner, refused.body.notificationId, 'failed');
    expect(refusedDetail.attempts[0]).toMatchObject({ statusCode: null, error: 'connection_refused' });
  });

  it('never follows a redirect: a 302 is a failed attempt', async () => {
    const target = await TestReceiver.start();
    try {
      receiver.replyAlways({ status: 302, headers: { location: `${target.url}/elsewhere` } });
      await system.registerCallback(partner, 5, receiver.url);
      const { body } = await echo(5, { processUniqueId: 'p' }).expect(202);
      const failed = await system.waitForStatus(partner, body.notificationId, 'failed');
      expect(failed.attempts.map((attempt) => attempt.statusCode)).toEqual([302, 302, 302]);
      expect(target.requests).toHaveLength(0);
    } finally {
      await target.close();
    }
  });

  it('stops retrying once the callback is deleted (skipped, reason recorded)', async () => {
    receiver.replyWith(500);
    receiver.replyAlways('hang');
    await system.registerCallback(partner, 5, receiver.url);
    const { body } = await echo(5, { processUniqueId: 'p' }).expect(202);
    await receiver.waitFor(1);
    await system.http.delete(`/${partner.partnerUniqueId}/callbacks/5`).set(partner.auth).expect(204);
    const skipped = await system.waitForStatus(partner, body.notificationId, 'skipped');
    expect(skipped.statusReason).toBe('callback_deleted');
    expect(receiver.deliveriesOf(body.notificationId).length).toBeLessThanOrEqual(2);
  });

  it('uses an updated URL from the next attempt on', async () => {
    const second = await TestReceiver.start();
    try {
      receiver.replyAlways(500);
      await system.registerCallback(partner, 5, receiver.url);
      const { body } = await echo(5, { processUniqueId: 'p' }).expect(202);
      await receiver.waitFor(1);
      await system.http
        .put(`/${partner.partnerUniqueId}/callbacks/5`)
        .set(partner.auth)
        .send({ callbackUrl: `${second.url}/new` })
        .expect(200);
      const detail = await system.waitForStatus(partner, body.notificationId, 'delivered');
      expect(detail.attempts.at(-1)?.callbackUrl).toBe(`${second.url}/new`);
      expect(second.deliveriesOf(body.notificationId)).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it('signs with both secrets for 24 hours after a rotation', async () => {
    const oldSecret = await system.registerCallback(partner, 7, receiver.url);
    const rotated = await system.http.post(`/${partner.partnerUniqueId}/callbacks/7/secret/rotate`).set(partner.auth).expect(200);
    const newSecret = rotated.body.signingSecret as string;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(oldSecret);
    await system.http.get(`/${partner.partnerUniqueId}/callbacks/7/secret`).set(partner.auth).expect(200, { signingSecret: newSecret });

    await echo(7, { simulationUniqueId: 's' }).expect(202);
    const [delivery] = await receiver.waitFor(1);
    expect((delivery.headers['webhook-signature'] as string).split(' ')).toHaveLength(2);
    for (const secret of [oldSecret, newSecret]) {
      expect(() => new Webhook(secret).verify(delivery.body, delivery.headers as Record<string, string>)).not.toThrow();
    }
  });

  it('delivers custom headers at the edge of what HTTP allows, exactly as registered', async () => {
    const edge = { "X-!#$%&'*+.^_`|~": 'tab\tspace obs-text \u00ff\u0080 ~', 'X-Empty': '', 'X-Long': 'v'.repeat(1024) };
    await system.registerCallback(partner, 5, receiver.url, edge);
    const { body } = await echo(5, { processUniqueId: 'p' }).expect(202);
    const [delivery] = await receiver.waitFor(1);
    // Node's HTTP parser reads header bytes as Latin-1, so U+0080–U+00FF come back as sent.
    expect(delivery.headers).toMatchObject(Object.fromEntries(Object.entries(edge).map(([name, value]) => [name.toLowerCase(), value])));
    expect((await system.waitForStatus(partner, body.notificationId, 'delivered')).attempts).toHaveLength(1);
  });

  it('loses no secret to concurrent rotations: the last two rotated secrets both sign', async () => {
    const original = await system.registerCallback(partner, 6, receiver.url);
    // Hold the row, so that every rotation has read the callback and waits to write it.
    const blocker = new Client({ connectionString: system.environment.databaseUrl });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM callbacks WHERE partner_id = $1 FOR UPDATE', [partner.partnerUniqueId]);
      const rotations = Array.from({ length: 4 }, () =>
        system.http
          .post(`/${partner.partnerUniqueId}/callbacks/6/secret/rotate`)
          .set(partner.auth)
          .then((response) => response),
      );
      await waitUntil(
        async () => {
          // Asked on another connection: inside the blocker's transaction pg_stat_activity is a snapshot.
          const [{ waiting }] = (await system.dataSource.query(
            `SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE 'UPDATE%callbacks%'`,
          )) as Array<{ waiting: number }>;
          return waiting === 4;
        },
        10_000,
        'four rotations to wait on the row',
      );
      await blocker.query('COMMIT');
      const rotated = (await Promise.all(rotations)).map((response) => {
        expect(response.status).toBe(200);
        return response.body.signingSecret as string;
      });
      const current = (await system.http.get(`/${partner.partnerUniqueId}/callbacks/6/secret`).set(partner.auth).expect(200)).body
        .signingSecret;
      expect(rotated).toContain(current);

      await echo(6, { processUniqueId: 'p' }).expect(202);
      const [delivery] = await receiver.waitFor(1);
      const verifies = (secret: string) => {
        try {
          new Webhook(secret).verify(delivery.body, delivery.headers as Record<string, string>);
          return true;
        } catch {
          return false;
        }
      };
      // The current secret and the one rotated in just before it; the original was retired by then.
      expect([original, ...rotated].filter(verifies)).toEqual(expect.arrayContaining([current]));
      expect(rotated.filter(verifies)).toHaveLength(2);
      expect(verifies(original)).toBe(false);
    } finally {
      await blocker.end();
    }
  });

  describe('platform events', () => {
    const publish = (body: object, key?: string) => {
      const call = system.http.post('/v1/notifications').set(ADMIN);
      return (key ? call.set('Idempotency-Key', key) : call).send(body);
    };

    it('delivers, replays an Idempotency-Key without sending again, and skips partners without a callback', async () => {
      await system.registerCallback(partner, 6, receiver.url);
      const event = { partnerUniqueId: partner.partnerUniqueId, notificationTypeId: 6, payload: { processUniqueId: 'p', messageId: 'm1' } };
      const first = await publish(event, 'evt-123').expect(202);
      const again = await publish(event, 'evt-123').expect(202);
      expect(again.body).toEqual(first.body);
      await system.waitForStatus(partner, first.body.notificationId, 'delivered');
      const envelope = JSON.parse((await receiver.waitFor(1))[0].body);
      expect(envelope).toMatchObject({ type: 'message.created', test: false, data: event.payload });
      const other = await publish(event, 'evt-124').expect(202);
      expect(other.body.notificationId).not.toBe(first.body.notificationId);

      const skipped = await publish({ ...event, notificationTypeId: 7 }).expect(202);
      expect(skipped.body).toEqual({ notificationId: expect.any(String), status: 'skipped' });
      expect((await system.notification(partner, skipped.body.notificationId)).statusReason).toBe('no_callback');
      // Nothing is pending and no job is left: whatever was going to be sent has been.
      await system.waitUntilSettled();
      expect(receiver.requests.map((request) => request.headers['webhook-id'])).toEqual([
        first.body.notificationId,
        other.body.notificationId,
      ]);
    });

    it('gives one notification for concurrent requests with one Idempotency-Key', async () => {
      await system.registerCallback(partner, 5, receiver.url);
      const event = { partnerUniqueId: partner.partnerUniqueId, notificationTypeId: 5, payload: { processUniqueId: 'p' } };
      const responses = await Promise.all(Array.from({ length: 6 }, () => publish(event, 'same-key')));
      expect(new Set(responses.map((response) => response.body.notificationId)).size).toBe(1);
      expect(responses.map((response) => response.status)).toEqual([202, 202, 202, 202, 202, 202]);
    });

    it('validates the event and refuses partner keys', async () => {
      const base = { partnerUniqueId: partner.partnerUniqueId, notificationTypeId: 5, payload: { processUniqueId: 'p' } };
      const cases: Array<[object, number, string, string]> = [
        [{ ...base, notificationTypeId: 8 }, 400, 'unsupported_notification_type', 'notificationTypeId'],
        [{ ...base, notificationTypeId: '5' }, 400, 'validation_failed', 'notificationTypeId'],
        [{ ...base, partnerUniqueId: 'nope' }, 400, 'validation_failed', 'partnerUniqueId'],
        [{ ...base, payload: { processUniqueId: 'p', simulationUniqueId: 's' } }, 400, 'validation_failed', 'payload.processUniqueId'],
        [{ ...base, payload: 'text' }, 400, 'validation_failed', 'payload'],
        [{ ...base, extra: true }, 400, 'validation_failed', 'extra'],
        [{ ...base, partnerUniqueId: '00000000-0000-4000-8000-000000000000' }, 404, 'partner_not_found', ''],
      ];
      for (const [body, status, code, field] of cases) {
        const response = await publish(body).expect(status);
        expect(response.body.code).toBe(code);
        if (field) expect(response.body.errors.map((error: { field: string }) => error.field)).toContain(field);
      }
      const unsupported = await publish({ ...base, notificationTypeId: 8 });
      expect(unsupported.body.detail).toMatch(/supported types are 5 .*6 .*7/);
      await publish(base, 'bad key with spaces').expect(400);
      await system.http.post('/v1/notifications').set(partner.auth).send(base).expect(403);
      const { body: log } = await system.http.get(`/${partner.partnerUniqueId}/notifications`).set(partner.auth).expect(200);
      expect(log.items).toEqual([]);
    });
  });

  describe('delivery log', () => {
    it('pages newest first with a cursor that stays stable under inserts, filters, and hides other partners', async () => {
      await system.registerCallback(partner, 5, receiver.url);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await echo(5, { processUniqueId: `p${i}` }).expect(202)).body.notificationId);
      const base = `/${partner.partnerUniqueId}/notifications`;
      const first = await system.http.get(`${base}?limit=2`).set(partner.auth).expect(200);
      expect(first.body.items.map((item: { notificationId: string }) => item.notificationId)).toEqual([ids[4], ids[3]]);
      await echo(5, { processUniqueId: 'late' }).expect(202);
      const second = await system.http.get(`${base}?limit=2&cursor=${first.body.nextCursor}`).set(partner.auth).expect(200);
      expect(second.body.items.map((item: { notificationId: string }) => item.notificationId)).toEqual([ids[2], ids[1]]);
      const third = await system.http.get(`${base}?limit=2&cursor=${second.body.nextCursor}`).set(partner.auth).expect(200);
      expect(third.body).toEqual({ items: [expect.objectContaining({ notificationId: ids[0] })], nextCursor: null });

      await receiver.waitFor(6);
      for (const id of ids) await system.waitForStatus(partner, id, 'delivered');
      const delivered = await system.http.get(`${base}?status=delivered&notificationTypeId=5&limit=200`).set(partner.auth).expect(200);
      expect(delivered.body.items.length).toBeGreaterThanOrEqual(5);
      expect((await system.http.get(`${base}?status=failed`).set(partner.auth).expect(200)).body.items).toEqual([]);
      expect((await system.http.get(`${base}?notificationTypeId=6`).set(partner.auth).expect(200)).body.items).toEqual([]);

      for (const query of ['status=lost', 'notificationTypeId=9', 'limit=500', 'cursor=garbage']) {
        await system.http.get(`${base}?${query}`).set(partner.auth).expect(400);
      }
      const other = await system.createPartner('Other');
      await system.http.get(`/${other.partnerUniqueId}/notifications/${ids[0]}`).set(other.auth).expect(404);
      await system.http.post(`/${other.partnerUniqueId}/notifications/${ids[0]}/redeliver`).set(other.auth).expect(404);
      expect((await system.http.get(`/${other.partnerUniqueId}/notifications`).set(other.auth).expect(200)).body.items).toEqual([]);
      await system.http.get(`${base}/${ids[0]}`).set(other.auth).expect(403);
    });
  });
});

describe('Retry-After (a schedule whose first step is shorter than the header, and whose largest is longer)', () => {
  let system: TestSystem;
  let receiver: TestReceiver;
  let partner: Partner;

  beforeAll(async () => {
    system = await TestSystem.start({ RETRY_SCHEDULE: '200ms,2s' });
  });
  beforeEach(async () => {
    receiver = await TestReceiver.start();
    partner = await system.createPartner();
    await system.registerCallback(partner, 5, receiver.url);
  });
  afterEach(() => receiver.close());
  afterAll(() => system.close());

  /** The notification after its first attempt: when that attempt was made and when the next is due. */
  const afterFirstAttempt = (id: string) =>
    waitUntil(
      async () => {
        const detail = await system.notification(partner, id);
        return detail.attemptCount === 1 && detail.attempts.length === 1 && detail.nextAttemptAt !== null
          ? { at: Date.parse(detail.attempts[0].at), due: Date.parse(detail.nextAttemptAt) }
          : undefined;
      },
      10_000,
      'the first attempt to be recorded with its next due time',
    );

  it('waits at least Retry-After after a 429, although the schedule says 200 ms', async () => {
    receiver.replyWith({ status: 429, headers: { 'retry-after': '1' } }, 200);
    const { body } = await system.http
      .post(`/v1/callbacks/echo/${partner.partnerUniqueId}/5`)
      .set(partner.auth)
      .send({ processUniqueId: 'p' })
      .expect(202);
    const { at, due } = await afterFirstAttempt(body.notificationId);
    expect(due - at).toBeGreaterThanOrEqual(1_000);
    const [first, second] = await receiver.waitFor(2);
    expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(1_000);
    await system.waitForStatus(partner, body.notificationId, 'delivered');
  });

  it('caps a Retry-After of an hour on a 503 at the largest scheduled delay (2 s, ±10 %)', async () => {
    receiver.replyWith({ status: 503, headers: { 'retry-after': '3600' } }, 200);
    const { body } = await system.http
      .post(`/v1/callbacks/echo/${partner.partnerUniqueId}/5`)
      .set(partner.auth)
      .send({ processUniqueId: 'p' })
      .expect(202);
    const { at, due } = await afterFirstAttempt(body.notificationId);
    // Due in about 2 s (the largest step), not in the hour the header asked for; the exact arithmetic is retry-policy.spec's.
    expect(due - at).toBeGreaterThanOrEqual(1_800);
    expect(due - at).toBeLessThan(60_000);
    const delivered = await system.waitForStatus(partner, body.notificationId, 'delivered');
    expect(delivered.attempts.map((attempt) => attempt.statusCode)).toEqual([503, 200]);
  });
});
