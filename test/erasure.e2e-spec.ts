import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import Redis from 'ioredis';
import { DELIVERY_QUEUE } from '@callbacks/queue';
import { TestReceiver, waitUntil } from '@callbacks/testing';
import { ADMIN, type Partner, TestSystem } from './support/system';

describe('erasure: a case, a partner', () => {
  let system: TestSystem;
  let receiver: TestReceiver;
  let queue: Queue;
  let redis: Redis;

  beforeAll(async () => {
    // Workers are started and stopped by each test: with none running, published notifications wait in the queue.
    system = await TestSystem.start({}, 0);
    queue = system.api.get<Queue>(getQueueToken(DELIVERY_QUEUE));
    redis = new Redis(system.environment.config.redisUrl);
  });
  beforeEach(async () => {
    receiver = await TestReceiver.start();
  });
  afterEach(async () => {
    await system.stopWorkers();
    await receiver.close();
  });
  afterAll(async () => {
    redis.disconnect();
    await system.close();
  });

  const publish = (partner: Partner, notificationTypeId: number, payload: object, key?: string) => {
    const call = system.http.post('/v1/notifications').set(ADMIN);
    return (key ? call.set('Idempotency-Key', key) : call)
      .send({ partnerUniqueId: partner.partnerUniqueId, notificationTypeId, payload })
      .expect(202)
      .then((response) => response.body.notificationId as string);
  };
  const get = (partner: Partner, id: string) => system.http.get(`/${partner.partnerUniqueId}/notifications/${id}`).set(partner.auth);
  const count = async (sql: string, parameters: unknown[]) => Number((await system.dataSource.query(sql, parameters))[0].n);
  const delivered = (id: string) => receiver.deliveriesOf(id).length;

  it('POST /admin/erasures erases one case for every partner: attempts, keys and jobs too; its pending deliveries are never sent', async () => {
    const [a, b] = [await system.createPartner('A'), await system.createPartner('B')];
    for (const partner of [a, b]) {
      await system.registerCallback(partner, 5, receiver.url);
      await system.registerCallback(partner, 6, receiver.url);
    }
    // Delivered before the erasure, with an attempt.
    await system.startWorker();
    const old = await publish(a, 5, { processUniqueId: 'PRC-X' });
    await system.waitForStatus(a, old, 'delivered');
    await system.stopWorkers();

    // Pending when the erasure comes: their jobs wait in the queue.
    const pendingA = await publish(a, 6, { processUniqueId: 'PRC-X' });
    const pendingB = await publish(b, 5, { processUniqueId: 'PRC-X' }, 'key-of-the-case');
    const otherCase = await publish(a, 5, { processUniqueId: 'PRC-Y' });
    const sameTextOtherKind = await publish(b, 6, { simulationUniqueId: 'PRC-X' });
    expect(await queue.getJobState(pendingA)).toBe('waiting');

    const response = await system.http.post('/admin/erasures').set(ADMIN).send({ processUniqueId: 'PRC-X' }).expect(200);
    expect(response.body).toEqual({ deletedNotifications: 3 });
    for (const [partner, id] of [
      [a, old],
      [a, pendingA],
      [b, pendingB],
    ] as const)
      expect((await get(partner, id)).status).toBe(404);
    expect(await count('SELECT count(*) AS n FROM notifications WHERE process_unique_id = $1', ['PRC-X'])).toBe(0);
    expect(await count('SELECT count(*) AS n FROM delivery_attempts WHERE notification_id = $1', [old])).toBe(0);
    expect(await count('SELECT count(*) AS n FROM idempotency_keys WHERE key = $1', ['key-of-the-case'])).toBe(0);
    expect(await queue.getJobState(pendingA)).toBe('unknown');
    expect(await queue.getJobState(pendingB)).toBe('unknown');
    expect((await system.http.get(`/${a.partnerUniqueId}/notifications?processUniqueId=PRC-X`).set(a.auth).expect(200)).body.items).toEqual(
      [],
    );

    // The rest is delivered; the erased case's pending deliveries never are.
    await system.startWorker();
    await receiver.waitFor(1, 10_000, (request) => request.headers['webhook-id'] === otherCase);
    await receiver.waitFor(1, 10_000, (request) => request.headers['webhook-id'] === sameTextOtherKind);
    await system.waitForStatus(a, otherCase, 'delivered');
    expect(delivered(pendingA) + delivered(pendingB)).toBe(0);
    expect(delivered(old)).toBe(1);

    // A second erasure of the same case finds nothing.
    expect((await system.http.post('/admin/erasures').set(ADMIN).send({ processUniqueId: 'PRC-X' }).expect(200)).body).toEqual({
      deletedNotifications: 0,
    });
    expect((await system.http.post('/admin/erasures').set(ADMIN).send({ simulationUniqueId: 'PRC-X' }).expect(200)).body).toEqual({
      deletedNotifications: 1,
    });
  });

  it('refuses an erasure request that does not name exactly one case, and any caller but the operator', async () => {
    const partner = await system.createPartner();
    const refuse = async (body: unknown, field: string) => {
      const response = await system.http
        .post('/admin/erasures')
        .set(ADMIN)
        .send(body as object)
        .expect(400);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(response.body.errors.map((error: { field: string }) => error.field)).toContain(field);
      return response.body;
    };
    expect((await refuse({}, 'processUniqueId')).detail).toMatch(/simulationUniqueId/);
    expect((await refuse({ processUniqueId: 'P', simulationUniqueId: 'S' }, 'processUniqueId')).detail).toMatch(/exactly one/);
    await refuse({ processUniqueId: '' }, 'processUniqueId');
    await refuse({ simulationUniqueId: 'x'.repeat(129) }, 'simulationUniqueId');
    await refuse({ processUniqueId: 7 }, 'processUniqueId');
    await refuse({ processUniqueId: 'P', partnerUniqueId: partner.partnerUniqueId }, 'partnerUniqueId');
    await system.http.post('/admin/erasures').send({ processUniqueId: 'P' }).expect(401);
    await system.http.post('/admin/erasures').set(partner.auth).send({ processUniqueId: 'P' }).expect(403);
  });

  it('a job whose notification was deleted delivers nothing', async () => {
    const partner = await system.createPartner();
    await system.registerCallback(partner, 5, receiver.url);
    const gone = await publish(partner, 5, { processUniqueId: 'PRC-GONE' });
    const kept = await publish(partner, 5, { processUniqueId: 'PRC-KEPT' });
    // As if the erasure could not remove the job (a worker held it): only the row goes.
    await system.dataSource.query('DELETE FROM notifications WHERE id = $1', [gone]);
    expect(await queue.getJobState(gone)).toBe('waiting');
    await system.startWorker();
    await receiver.waitFor(1, 10_000, (request) => request.headers['webhook-id'] === kept);
    await waitUntil(async () => (await queue.getJobState(gone)) === 'completed', 10_000, 'the orphan job completed');
    expect((await queue.getJob(gone))?.returnvalue).toEqual({ kind: 'nothing_to_do', reason: 'notification_deleted' });
    expect(delivered(gone)).toBe(0);
  });

  it('DELETE /admin/partners/{id} erases the partner, its keys, callbacks, notifications, attempts and Redis state; its keys answer 401', async () => {
    const failing = (await TestReceiver.start()).replyAlways(500);
    try {
      const [leaving, staying] = [await system.createPartner('Leaving'), await system.createPartner('Staying')];
      const secondKey = (await system.http.post(`/admin/partners/${leaving.partnerUniqueId}/api-keys`).set(ADMIN).expect(201)).body
        .apiKey as string;
      await system.registerCallback(leaving, 5, receiver.url);
      await system.registerCallback(leaving, 6, failing.url);
      await system.registerCallback(staying, 5, receiver.url);

      await system.startWorker();
      const done = await publish(leaving, 5, { processUniqueId: 'PRC-L' }, 'leaving-key');
      const failed = await publish(leaving, 6, { processUniqueId: 'PRC-L' });
      await system.waitForStatus(leaving, done, 'delivered');
      await system.waitForStatus(leaving, failed, 'failed');
      await system.stopWorkers();
      const pending = await publish(leaving, 5, { simulationUniqueId: 'SIM-L' });
      const othersPending = await publish(staying, 5, { simulationUniqueId: 'SIM-S' });
      const prefix = system.environment.queuePrefix;
      expect(await redis.keys(`${prefix}:callback:${leaving.partnerUniqueId}:*`)).not.toEqual([]);
      expect(await queue.getJobState(done)).toBe('completed');

      await system.http.post(`/admin/partners/${leaving.partnerUniqueId}/portal-links`).set(ADMIN).expect(201);
      // An operator event about the leaving partner (as the lifecycle writes them), and one about the other.
      for (const partner of [leaving, staying]) {
        await system.dataSource.query(
          `INSERT INTO operator_events (id, type, data, status) VALUES (gen_random_uuid(), 'callback.disabled', $1, 'delivered')`,
          [JSON.stringify({ partnerUniqueId: partner.partnerUniqueId, notificationTypeId: 6 })],
        );
      }

      await system.http.delete(`/admin/partners/${leaving.partnerUniqueId}`).set(ADMIN).expect(204);

      for (const auth of [leaving.auth, { Authorization: `Bearer ${secondKey}` }]) {
        const refused = await system.http.get(`/${leaving.partnerUniqueId}/callbacks`).set(auth).expect(401);
        expect(refused.body.code).toBe('unauthorized');
      }
      const rows = (await system.dataSource.query(
        `SELECT (SELECT count(*) FROM partners WHERE id = $1)::int AS partners,
                (SELECT count(*) FROM api_keys WHERE partner_id = $1)::int AS api_keys,
                (SELECT count(*) FROM callbacks WHERE partner_id = $1)::int AS callbacks,
                (SELECT count(*) FROM notifications WHERE partner_id = $1)::int AS notifications,
                (SELECT count(*) FROM delivery_attempts WHERE notification_id = ANY($2::uuid[]))::int AS attempts,
                (SELECT count(*) FROM idempotency_keys WHERE key = 'leaving-key')::int AS idempotency_keys,
                (SELECT count(*) FROM portal_links WHERE partner_id = $1)::int AS portal_links,
                (SELECT count(*) FROM operator_events WHERE data->>'partnerUniqueId' = $1::text)::int AS operator_events`,
        [leaving.partnerUniqueId, [done, failed, pending]],
      )) as Array<Record<string, number>>;
      expect(rows[0]).toEqual({
        partners: 0,
        api_keys: 0,
        callbacks: 0,
        notifications: 0,
        attempts: 0,
        idempotency_keys: 0,
        portal_links: 0,
        operator_events: 0,
      });
      const othersEvents = (await system.dataSource.query(
        `SELECT count(*)::int AS n FROM operator_events WHERE data->>'partnerUniqueId' = $1`,
        [staying.partnerUniqueId],
      )) as Array<{ n: number }>;
      expect(othersEvents[0].n).toBe(1);
      expect(await redis.keys(`${prefix}:callback:${leaving.partnerUniqueId}:*`)).toEqual([]);
      for (const id of [done, failed, pending]) expect(await queue.getJobState(id)).toBe('unknown');
      await system.http.post(`/admin/partners/${leaving.partnerUniqueId}/api-keys`).set(ADMIN).expect(404);
      await system.http.delete(`/admin/partners/${leaving.partnerUniqueId}`).set(ADMIN).expect(404);

      // The other partner is untouched, and nothing of the erased one is sent.
      await system.startWorker();
      await receiver.waitFor(1, 10_000, (request) => request.headers['webhook-id'] === othersPending);
      await system.waitForStatus(staying, othersPending, 'delivered');
      expect(delivered(pending)).toBe(0);
      await system.http.get(`/${staying.partnerUniqueId}/callbacks/5`).set(staying.auth).expect(200);
    } finally {
      await failing.close();
    }
  });

  it('refuses a partner erasure with a malformed id (400), an unknown partner (404), or a partner key (403)', async () => {
    const partner = await system.createPartner();
    expect((await system.http.delete('/admin/partners/not-a-uuid').set(ADMIN).expect(400)).body.code).toBe('invalid_partner_id');
    expect((await system.http.delete('/admin/partners/00000000-0000-4000-8000-000000000000').set(ADMIN).expect(404)).body.code).toBe(
      'partner_not_found',
    );
    await system.http.delete(`/admin/partners/${partner.partnerUniqueId}`).set(partner.auth).expect(403);
    await system.http.delete(`/admin/partners/${partner.partnerUniqueId}`).expect(401);
    await system.http.get(`/${partner.partnerUniqueId}/callbacks`).set(partner.auth).expect(200);
  });

  it('documents both routes in the OpenAPI document, with their problem+json answers and the bearer scheme', async () => {
    const { paths } = (await system.http.get('/docs-json').expect(200)).body;
    const erase = paths['/admin/erasures'].post;
    expect(Object.keys(erase.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403']));
    expect(erase.responses['400'].content).toHaveProperty(['application/problem+json']);
    expect(erase.security).toEqual([{ bearer: [] }]);
    const erasePartner = paths['/admin/partners/{partnerUniqueID}'].delete;
    expect(Object.keys(erasePartner.responses)).toEqual(expect.arrayContaining(['204', '400', '401', '403', '404']));
  });
});
