import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import Redis from 'ioredis';
import { DELIVERY_QUEUE } from '@callbacks/queue';
import { Client } from 'pg';
import { serviceUrls, TcpProxy, TestReceiver, waitUntil } from '@callbacks/testing';
import { ADMIN, type Partner, TestSystem } from './support/system';

/** Signs the partner in to the portal with a link the operator made (no API key behind it); returns the session's cookie. */
async function portalSession(system: TestSystem, partner: Partner): Promise<string> {
  const link = (await system.http.post(`/admin/partners/${partner.partnerUniqueId}/portal-links`).set(ADMIN).expect(201)).body;
  const signIn = await system.http
    .post(new URL(link.url).pathname)
    .set({ Host: '127.0.0.1', Origin: 'http://127.0.0.1', 'Sec-Fetch-Site': 'same-origin' })
    .type('form')
    .send('')
    .expect(303);
  const cookie = (signIn.headers['set-cookie'] as unknown as string[]).map((value) => value.split(';')[0]).join('; ');
  await system.http.get(`/portal/${partner.partnerUniqueId}`).set('Cookie', cookie).expect(200);
  return cookie;
}

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

      // A portal session, signed in with a link, and one more link left unused.
      const cookie = await portalSession(system, leaving);
      const portalPage = `/portal/${leaving.partnerUniqueId}`;
      await system.http.post(`/admin/partners/${leaving.partnerUniqueId}/portal-links`).set(ADMIN).expect(201);
      const sessions = async () =>
        Number(
          (
            (await system.dataSource.query('SELECT count(*)::int AS n FROM portal_sessions WHERE partner_id = $1', [
              leaving.partnerUniqueId,
            ])) as Array<{ n: number }>
          )[0].n,
        );
      expect(await sessions()).toBe(1);
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
      expect(await sessions()).toBe(0);
      expect((await system.http.get(portalPage).set('Cookie', cookie)).status).not.toBe(200);
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

describe('an erasure cut short picks up where it stopped', () => {
  let redisProxy: TcpProxy;
  let system: TestSystem;
  let redis: Redis;
  /** The test's own connection: the API's pool loses the connection the first test terminates. */
  let db: Client;
  const query = async <T>(sql: string, parameters: unknown[] = []) => (await db.query(sql, parameters)).rows as T[];

  beforeAll(async () => {
    // The API reaches Redis through a proxy the test can cut; no worker runs, so every job stays queued.
    const direct = new URL(serviceUrls().redisUrl);
    redisProxy = await TcpProxy.start(Number(direct.port || 6379), direct.hostname);
    system = await TestSystem.start({ REDIS_URL: `redis://127.0.0.1:${redisProxy.port}` }, 0);
    redis = new Redis(serviceUrls().redisUrl);
    db = new Client({ connectionString: system.environment.databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    await db.end();
    redis.disconnect();
    await system.close();
    await redisProxy.close();
  });

  /** A partner with 1,500 pending notifications (their jobs waiting): an erasure takes them in two batches of 1,000 and 500. */
  async function partnerWithBacklog(): Promise<{ partner: Partner; ids: string[] }> {
    const partner = await system.createPartner('Leaving');
    await system.registerCallback(partner, 5, 'https://partner.example.com/hook');
    const ids: string[] = [];
    for (let batch = 0; batch < 3; batch++) {
      const notifications = Array.from({ length: 500 }, (_, n) => ({
        partnerUniqueId: partner.partnerUniqueId,
        notificationTypeId: 5,
        payload: { processUniqueId: `PRC-${batch}-${n}` },
      }));
      const { body } = await system.http.post('/v1/notifications/batch').set(ADMIN).send({ notifications }).expect(202);
      ids.push(...(body.results as Array<{ notificationId: string }>).map((result) => result.notificationId));
    }
    return { partner, ids };
  }

  /**
   * Starts the partner's erasure and holds it inside its second batch: a row the first batch does not
   * take (the same query, in the same order) is locked by the test. Resolves once the first batch is
   * gone and the erasure waits on that row.
   */
  async function eraseUntilMidway(partner: Partner, blocker: Client) {
    const firstBatch = (
      await query<{ id: string }>('SELECT id FROM notifications WHERE partner_id = $1 LIMIT 1000', [partner.partnerUniqueId])
    ).map((row) => row.id);
    const [held] = await query<{ id: string }>(
      'SELECT id FROM notifications WHERE partner_id = $1 AND NOT (id = ANY($2::uuid[])) LIMIT 1',
      [partner.partnerUniqueId, firstBatch],
    );
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM notifications WHERE id = $1 FOR UPDATE', [held.id]);
    const erasing = system.http
      .delete(`/admin/partners/${partner.partnerUniqueId}`)
      .set(ADMIN)
      .then((response) => response);
    const left = async () =>
      (await query<{ n: number }>('SELECT count(*)::int AS n FROM notifications WHERE partner_id = $1', [partner.partnerUniqueId]))[0].n;
    const waitingPid = await waitUntil(
      async () => {
        const [waiting] = await query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        return waiting && (await left()) === 500 ? waiting.pid : undefined;
      },
      20_000,
      'the erasure to finish its first batch and wait in its second',
    );
    return { erasing, waitingPid };
  }

  /** Everything of the partner, in PostgreSQL and in Redis (its jobs and its callbacks' keys). */
  async function leftovers(partner: Partner, ids: string[]) {
    const [rows] = await query<Record<string, number>>(
      `SELECT (SELECT count(*) FROM partners WHERE id = $1)::int AS partners,
              (SELECT count(*) FROM api_keys WHERE partner_id = $1)::int AS api_keys,
              (SELECT count(*) FROM callbacks WHERE partner_id = $1)::int AS callbacks,
              (SELECT count(*) FROM notifications WHERE partner_id = $1)::int AS notifications`,
      [partner.partnerUniqueId],
    );
    const prefix = system.environment.queuePrefix;
    const jobs = (await Promise.all(ids.map((id) => redis.exists(`${prefix}:${DELIVERY_QUEUE}:${id}`)))).reduce((sum, n) => sum + n, 0);
    const callbackKeys = (await redis.keys(`${prefix}:callback:${partner.partnerUniqueId}:*`)).length;
    return { ...rows, jobs, callbackKeys };
  }

  it('PostgreSQL connection lost mid-way: the 5xx is repeated into a 204, and nothing of the partner is left', async () => {
    const { partner, ids } = await partnerWithBacklog();
    const cookie = await portalSession(system, partner);
    const blocker = new Client({ connectionString: system.environment.databaseUrl });
    await blocker.connect();
    try {
      const { erasing, waitingPid } = await eraseUntilMidway(partner, blocker);
      // Its portal sessions ended first, with its keys: while the erasure goes on (the partner's row is
      // deleted last), the portal answers the session as a stranger's.
      expect(
        (await query<{ n: number }>('SELECT count(*)::int AS n FROM portal_sessions WHERE partner_id = $1', [partner.partnerUniqueId]))[0]
          .n,
      ).toBe(0);
      expect((await system.http.get(`/portal/${partner.partnerUniqueId}`).set('Cookie', cookie)).status).not.toBe(200);
      // The erasure's own database connection is cut while it waits.
      await query('SELECT pg_terminate_backend($1)', [waitingPid]);
      const cut = await erasing;
      expect(cut.status).toBeGreaterThanOrEqual(500);
      expect(cut.headers['content-type']).toMatch(/application\/problem\+json/);
      await blocker.query('ROLLBACK');
      expect((await leftovers(partner, ids)).notifications).toBe(500);

      await system.http.delete(`/admin/partners/${partner.partnerUniqueId}`).set(ADMIN).expect(204);
      expect(await leftovers(partner, ids)).toEqual({ partners: 0, api_keys: 0, callbacks: 0, notifications: 0, jobs: 0, callbackKeys: 0 });
    } finally {
      await blocker.end();
    }
  });

  it('Redis unreachable mid-way: no batch is half done, and the repeated erasure removes every job too', async () => {
    const { partner, ids } = await partnerWithBacklog();
    const blocker = new Client({ connectionString: system.environment.databaseUrl });
    await blocker.connect();
    try {
      const { erasing } = await eraseUntilMidway(partner, blocker);
      expect((await leftovers(partner, ids)).jobs).toBe(500);
      // Redis goes away, then the second batch may go on.
      redisProxy.cut();
      await blocker.query('ROLLBACK');
      const cut = await erasing;
      expect(cut.status).toBeGreaterThanOrEqual(500);
      redisProxy.restore();
      // The batch that could not remove its jobs kept its rows: the repetition finds them, and the jobs.
      expect(await leftovers(partner, ids)).toMatchObject({ notifications: 500, jobs: 500 });

      await waitUntil(
        async () => (await system.http.delete(`/admin/partners/${partner.partnerUniqueId}`).set(ADMIN)).status === 204 || undefined,
        20_000,
        'the repeated erasure to succeed once Redis is back',
      );
      expect(await leftovers(partner, ids)).toEqual({ partners: 0, api_keys: 0, callbacks: 0, notifications: 0, jobs: 0, callbackKeys: 0 });
    } finally {
      redisProxy.restore();
      await blocker.end();
    }
  });
});
