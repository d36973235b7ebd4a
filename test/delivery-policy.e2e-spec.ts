import { TestReceiver, waitUntil } from '@callbacks/testing';
import { ADMIN, type Partner, TestSystem } from './support/system';

/** A callback's own delivery policy applies to its deliveries: its timeout and its in-flight cap. */
describe('delivery policy: per-callback timeout and in-flight cap', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await TestSystem.start({
      DELIVERY_TIMEOUT_MS: '20000',
      DELIVERY_LOCK_MS: '60000',
      CALLBACK_MAX_IN_FLIGHT: '2',
      WORKER_CONCURRENCY: '30',
      RETRY_SCHEDULE: '1h',
      CIRCUIT_FAILURE_THRESHOLD: '1000',
    });
  });
  afterAll(() => system.close());

  const put = (partner: Partner, callbackUrl: string, delivery: Record<string, unknown>) =>
    system.http.put(`/${partner.partnerUniqueId}/callbacks/5`).set(partner.auth).send({ callbackUrl, delivery }).expect(201);
  const publish = (partner: Partner, n: number) =>
    system.http
      .post('/v1/notifications')
      .set(ADMIN)
      .send({ partnerUniqueId: partner.partnerUniqueId, notificationTypeId: 5, payload: { processUniqueId: `p${n}` } })
      .expect(202);

  it("ends an attempt at the callback's timeoutMs, not DELIVERY_TIMEOUT_MS", async () => {
    const receiver = (await TestReceiver.start()).replyAlways('hang');
    try {
      const partner = await system.createPartner('Quick');
      await put(partner, receiver.url, { timeoutMs: 1000 });
      const { body } = await publish(partner, 1);
      // DELIVERY_TIMEOUT_MS is 20 s: an attempt recorded within 10 s ended at the callback's own deadline.
      const attempt = await waitUntil(
        async () => (await system.notification(partner, body.notificationId)).attempts[0],
        10_000,
        'the first attempt to be recorded',
      );
      expect(attempt).toMatchObject({ statusCode: null, error: 'timeout' });
      expect(attempt.durationMs).toBeGreaterThanOrEqual(900);
      expect(attempt.durationMs).toBeLessThan(5_000);
      expect(receiver.requests[0].abandonedAt).toBeDefined();
    } finally {
      await receiver.close();
    }
  });

  it('holds a callback to its own maxInFlight (above CALLBACK_MAX_IN_FLIGHT), parking the rest', async () => {
    const receiver = (await TestReceiver.start()).replyAlways('hang');
    try {
      const partner = await system.createPartner('Wide');
      await put(partner, receiver.url, { maxInFlight: 5 });
      await Promise.all(Array.from({ length: 12 }, (_, n) => publish(partner, n)));
      // CALLBACK_MAX_IN_FLIGHT is 2: five at once only under the callback's own cap.
      await receiver.waitFor(5, 15_000);
      await waitUntil(
        async () =>
          (
            (await system.dataSource.query(`SELECT count(*)::int AS n FROM notifications WHERE partner_id = $1 AND parked_at IS NOT NULL`, [
              partner.partnerUniqueId,
            ])) as Array<{ n: number }>
          )[0].n === 7,
        15_000,
        'the seven over the cap to be parked',
      );
      // Every slot is held by a hanging request and the rest are parked: nothing else can be sent.
      expect(receiver.requests).toHaveLength(5);
      expect(receiver.maxConcurrent).toBe(5);
    } finally {
      await receiver.close();
    }
  });
});
