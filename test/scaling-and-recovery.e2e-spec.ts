import Redis from 'ioredis';
import { TestReceiver, waitUntil } from '@callbacks/testing';
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

describe('several workers and the reconciler', () => {
  let receiver: TestReceiver;

  beforeEach(async () => {
    receiver = await TestReceiver.start();
  });
  afterEach(() => receiver.close());

  it('two workers share the queue and deliver each notification exactly once', async () => {
    const system = await TestSystem.start({}, 2);
    try {
      const partner = await system.createPartner();
      await system.registerCallback(partner, 5, receiver.url);
      const ids = await publishMany(system, partner, 200);
      await receiver.waitFor(200, 20_000);
      await waitUntil(async () => (await countByStatus(system)).delivered === 200, 10_000, 'all delivered');
      const perId = new Map<string, number>();
      for (const request of receiver.requests)
        perId.set(request.headers['webhook-id'] as string, (perId.get(request.headers['webhook-id'] as string) ?? 0) + 1);
      expect(perId.size).toBe(200);
      expect([...perId.values()].every((count) => count === 1)).toBe(true);
      expect(new Set(ids)).toEqual(new Set(perId.keys()));
    } finally {
      await system.close();
    }
  });

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
      expect(new Set(receiver.requests.map((request) => request.headers['webhook-id']))).toEqual(new Set(ids));
      expect(receiver.requests).toHaveLength(50);
    } finally {
      await system.close();
    }
  });
});
