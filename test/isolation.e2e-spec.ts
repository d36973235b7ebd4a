import request from 'supertest';
import { TestReceiver, waitUntil } from '@callbacks/testing';
import { ADMIN, TestSystem } from './support/system';

describe('isolation: one partner’s broken endpoint does not slow the others', () => {
  it('caps in-flight deliveries per callback, opens its circuit, keeps others flowing, and recovers after a probe', async () => {
    const system = await TestSystem.start(
      {
        WORKER_CONCURRENCY: '10',
        CALLBACK_MAX_IN_FLIGHT: '2',
        CIRCUIT_FAILURE_THRESHOLD: '3',
        CIRCUIT_OPEN_MS: '1500',
        DELIVERY_TIMEOUT_MS: '700',
        // Longer than the open period: attempts due while it is open are recorded as circuit_open, and
        // the later ones reach the recovered endpoint through the probe.
        RETRY_SCHEDULE: '100ms,100ms,100ms,2s,2s,2s',
      },
      0,
    );
    const worker = await system.startWorker();
    const stuckReceiver = (await TestReceiver.start()).replyAlways('hang');
    const healthyReceiver = await TestReceiver.start();
    try {
      const [stuck, healthy] = [await system.createPartner('Stuck'), await system.createPartner('Healthy')];
      await system.registerCallback(stuck, 5, stuckReceiver.url);
      await system.registerCallback(healthy, 5, healthyReceiver.url);
      const publish = (partnerUniqueId: string, n: number) =>
        system.http
          .post('/v1/notifications')
          .set(ADMIN)
          .send({ partnerUniqueId, notificationTypeId: 5, payload: { processUniqueId: `p${n}` } })
          .expect(202);

      const stuckIds = (await Promise.all(Array.from({ length: 30 }, (_, n) => publish(stuck.partnerUniqueId, n)))).map(
        (response) => response.body.notificationId as string,
      );
      await stuckReceiver.waitFor(2);
      const started = Date.now();
      await Promise.all(Array.from({ length: 10 }, (_, n) => publish(healthy.partnerUniqueId, n)));
      await healthyReceiver.waitFor(10, 5_000);
      // With 10 worker slots and 30 hanging deliveries, only the cap (2) keeps them flowing.
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(stuckReceiver.maxConcurrent).toBeLessThanOrEqual(2);

      const circuit = await waitUntil(
        async () => {
          const { body } = await system.http.get(`/${stuck.partnerUniqueId}/callbacks/5`).set(stuck.auth).expect(200);
          return body.health === 'open' ? body : undefined;
        },
        10_000,
        'the stuck callback’s circuit to open',
      );
      expect(circuit.health).toBe('open');
      expect((await system.http.get(`/${healthy.partnerUniqueId}/callbacks/5`).set(healthy.auth)).body.health).toBe('ok');
      const attemptsWhileOpen = stuckReceiver.requests.length;
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(stuckReceiver.requests.length).toBeLessThanOrEqual(attemptsWhileOpen + 2);

      // The endpoint recovers: after the open period one probe succeeds, the circuit closes, the backlog drains.
      stuckReceiver.replyAlways(200);
      await waitUntil(
        async () => {
          const counts = (await system.dataSource.query(
            `SELECT status, count(*)::int AS n FROM notifications WHERE partner_id = $1 GROUP BY status`,
            [stuck.partnerUniqueId],
          )) as Array<{
            status: string;
            n: number;
          }>;
          return counts.find((row) => row.status === 'pending') ? undefined : counts;
        },
        20_000,
        'the stuck partner’s backlog to finish',
      );
      const delivered = (await system.dataSource.query(
        `SELECT count(*)::int AS n FROM notifications WHERE partner_id = $1 AND status = 'delivered'`,
        [stuck.partnerUniqueId],
      )) as Array<{ n: number }>;
      expect(delivered[0].n).toBeGreaterThan(0);
      expect(stuckIds).toHaveLength(30);
      expect((await system.http.get(`/${stuck.partnerUniqueId}/callbacks/5`).set(stuck.auth)).body.health).toBe('ok');

      const metrics = (await request(worker.getHttpServer()).get('/metrics')).text;
      expect(metrics).toMatch(/^webhook_circuit_transitions_total\{state="opened"\} [1-9]/m);
      expect(metrics).toMatch(/^webhook_circuit_transitions_total\{state="closed"\} [1-9]/m);
      expect(metrics).toMatch(/^webhook_deliveries_deferred_total\{reason="in_flight_cap"\} [1-9]/m);
      expect(metrics).toMatch(/^webhook_deliveries_deferred_total\{reason="circuit_open"\} [1-9]/m);
    } finally {
      await stuckReceiver.close();
      await healthyReceiver.close();
      await system.close();
    }
  });
});
