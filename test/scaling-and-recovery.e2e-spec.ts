import Redis from 'ioredis';
import { type ChildApp, TestReceiver, waitUntil } from '@callbacks/testing';
import { BUILT_WORKER, startBuiltApp } from './support/processes';
import { ADMIN, type Partner, TestSystem } from './support/system';

async function publishMany(system: TestSystem, partner: Partner, count: number, notificationTypeId = 5): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 25) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(25, count - i) }, (_, j) =>
        system.http
          .post('/v1/notifications')
          .set(ADMIN)
          .send({ partnerUniqueId: partner.partnerUniqueId, notificationTypeId, payload: { processUniqueId: `p-${i + j}` } })
          .expect(202),
      ),
    );
    ids.push(...batch.map((response) => response.body.notificationId as string));
  }
  return ids;
}

async function countByStatus(system: TestSystem): Promise<Record<string, number>> {
  const rows = (await system.dataSource.query('SELECT status, count(*)::int AS count FROM notifications GROUP BY status')) as Array<{
    status: string;
    count: number;
  }>;
  return Object.fromEntries(rows.map((row) => [row.status, row.count]));
}

/** The notifications a worker process logged as delivered (its JSON log lines, `msg: "delivered"`). */
function deliveredBy(worker: ChildApp): Set<string> {
  const ids = new Set<string>();
  // The last piece may be a line still being written.
  for (const line of worker.output.split('\n').slice(0, -1)) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg?: string; notificationId?: string };
    if (entry.msg === 'delivered' && entry.notificationId) ids.add(entry.notificationId);
  }
  return ids;
}

describe('several workers and the reconciler', () => {
  let receiver: TestReceiver;

  beforeEach(async () => {
    receiver = await TestReceiver.start();
  });
  afterEach(() => receiver.close());

  it('two worker processes share the queue: each delivers a part, and each notification is delivered exactly once', async () => {
    // One callback takes all 200: its in-flight cap is lifted, so that this is about sharing the queue, not
    // parking; and the deadline is generous, so that a slow machine does not turn a received delivery into
    // a timed-out attempt and a retry (at-least-once allows that; "exactly once" here means without faults).
    const system = await TestSystem.start({ CALLBACK_MAX_IN_FLIGHT: '1000', DELIVERY_TIMEOUT_MS: '20000' }, 0);
    const workers = [1, 2].map(() => startBuiltApp(BUILT_WORKER, { ...system.environment.env, LOG_LEVEL: 'info' }));
    try {
      await Promise.all(workers.map((worker) => worker.waitForOutput('worker running')));
      const partner = await system.createPartner();
      await system.registerCallback(partner, 5, receiver.url);
      const ids = await publishMany(system, partner, 200);
      await receiver.waitFor(200, 60_000);
      await waitUntil(async () => (await countByStatus(system)).delivered === 200, 30_000, 'all delivered');
      await system.waitUntilSettled(30_000);
      const perId = new Map<string, number>();
      for (const request of receiver.requests)
        perId.set(request.headers['webhook-id'] as string, (perId.get(request.headers['webhook-id'] as string) ?? 0) + 1);
      expect(perId.size).toBe(200);
      expect([...perId.values()].every((count) => count === 1)).toBe(true);
      expect(new Set(ids)).toEqual(new Set(perId.keys()));

      // Who delivered what, from each process's own log: both took part, and no notification was delivered by both.
      await waitUntil(
        () => workers.reduce((sum, worker) => sum + deliveredBy(worker).size, 0) === 200,
        10_000,
        'both workers to log their deliveries',
      );
      const [first, second] = workers.map(deliveredBy);
      expect(first.size).toBeGreaterThan(0);
      expect(second.size).toBeGreaterThan(0);
      expect([...first].filter((id) => second.has(id))).toEqual([]);
      expect(new Set([...first, ...second])).toEqual(new Set(ids));
    } finally {
      await Promise.all(workers.map((worker) => worker.stop()));
      await system.close();
    }
  }, 90_000);

  it('re-enqueues pending notifications from PostgreSQL after the queue keys are deleted', async () => {
    const system = await TestSystem.start({}, 0);
    try {
      const partner = await system.createPartner();
      await system.registerCallback(partner, 6, receiver.url);
      const ids = await publishMany(system, partner, 50, 6);
      const redis = new Redis(system.environment.config.redisUrl);
      try {
        const keys = await redis.keys(`${system.environment.queuePrefix}:*`);
        expect(keys.length).toBeGreaterThan(0);
        await redis.del(...keys);
      } finally {
        redis.disconnect();
      }
      expect(await countByStatus(system)).toEqual({ pending: 50 });

      await system.startWorker();
      await receiver.waitFor(50, 20_000);
      await waitUntil(async () => (await countByStatus(system)).delivered === 50, 10_000, 'all delivered');
      await system.waitUntilSettled();
      expect(new Set(receiver.requests.map((request) => request.headers['webhook-id']))).toEqual(new Set(ids));
      expect(receiver.requests).toHaveLength(50);
    } finally {
      await system.close();
    }
  });
});
