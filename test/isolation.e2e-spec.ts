import request from 'supertest';
import { TestReceiver, waitUntil } from '@callbacks/testing';
import { ADMIN, TestSystem } from './support/system';

describe('isolation: one partner’s broken endpoint does not slow the others', () => {
  const publish = (system: TestSystem, partnerUniqueId: string, n: number) =>
    system.http
      .post('/v1/notifications')
      .set(ADMIN)
      .send({ partnerUniqueId, notificationTypeId: 5, payload: { processUniqueId: `p${n}` } })
      .expect(202);
  const attemptsOf = async (system: TestSystem, partnerUniqueId: string) =>
    (
      (await system.dataSource.query(
        `SELECT count(*)::int AS n FROM delivery_attempts a JOIN notifications n ON n.id = a.notification_id WHERE n.partner_id = $1`,
        [partnerUniqueId],
      )) as Array<{ n: number }>
    )[0].n;

  it('caps in-flight deliveries per callback: a healthy partner is delivered while every worker slot could be hanging', async () => {
    // The stuck endpoint never answers within the test: no stuck attempt can end and free a slot, so
    // the healthy deliveries can only get through the slots the cap (2 of 10) leaves free.
    const system = await TestSystem.start(
      { WORKER_CONCURRENCY: '10', CALLBACK_MAX_IN_FLIGHT: '2', DELIVERY_TIMEOUT_MS: '50000', CIRCUIT_FAILURE_THRESHOLD: '1000' },
      0,
    );
    await system.startWorker();
    const stuckReceiver = (await TestReceiver.start()).replyAlways('hang');
    const healthyReceiver = await TestReceiver.start();
    try {
      const [stuck, healthy] = [await system.createPartner('Stuck'), await system.createPartner('Healthy')];
      await system.registerCallback(stuck, 5, stuckReceiver.url);
      await system.registerCallback(healthy, 5, healthyReceiver.url);
      await Promise.all(Array.from({ length: 30 }, (_, n) => publish(system, stuck.partnerUniqueId, n)));
      await stuckReceiver.waitFor(2);
      await Promise.all(Array.from({ length: 10 }, (_, n) => publish(system, healthy.partnerUniqueId, n)));
      await healthyReceiver.waitFor(10, 20_000);
      // Causal, not timed: the healthy ten arrived before any stuck attempt had ended.
      expect(await attemptsOf(system, stuck.partnerUniqueId)).toBe(0);
      expect(stuckReceiver.requests.every((request) => request.answeredStatus === undefined && request.abandonedAt === undefined)).toBe(
        true,
      );
      expect(stuckReceiver.maxConcurrent).toBe(2);
      expect(stuckReceiver.requests).toHaveLength(2);
    } finally {
      await stuckReceiver.close();
      await healthyReceiver.close();
      await system.close();
    }
  });

  it('opens the circuit of a failing callback, sends nothing while it is open, and recovers after a probe', async () => {
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
      const stuckIds = (await Promise.all(Array.from({ length: 30 }, (_, n) => publish(system, stuck.partnerUniqueId, n)))).map(
        (response) => response.body.notificationId as string,
      );

      const circuit = await waitUntil(
        async () => {
          const { body } = await system.http.get(`/${stuck.partnerUniqueId}/callbacks/5`).set(stuck.auth).expect(200);
          return body.health === 'open' ? body : undefined;
        },
        10_000,
        'the stuck callback’s circuit to open',
      );
      expect(circuit.health).toBe('open');
      await Promise.all(Array.from({ length: 10 }, (_, n) => publish(system, healthy.partnerUniqueId, n)));
      await healthyReceiver.waitFor(10, 10_000);
      expect((await system.http.get(`/${healthy.partnerUniqueId}/callbacks/5`).set(healthy.auth)).body.health).toBe('ok');

      // While it is open, attempts fall due and are recorded as circuit_open with nothing sent: wait for
      // five of them (events that can only happen while it is open), then count what reached the endpoint.
      const sentAtOpen = stuckReceiver.requests.length;
      const circuitOpenAttempts = async () =>
        (
          (await system.dataSource.query(
            `SELECT count(*)::int AS n FROM delivery_attempts a JOIN notifications n ON n.id = a.notification_id WHERE n.partner_id = $1 AND a.error = 'circuit_open'`,
            [stuck.partnerUniqueId],
          )) as Array<{ n: number }>
        )[0].n;
      const openBefore = await circuitOpenAttempts();
      await waitUntil(async () => (await circuitOpenAttempts()) >= openBefore + 5, 10_000, 'five attempts held back by the open circuit');
      // At most the one probe let through after CIRCUIT_OPEN_MS, however many attempts fell due.
      expect(stuckReceiver.requests.length).toBeLessThanOrEqual(sentAtOpen + 1);

      // The endpoint recovers: after the open period one probe succeeds, the circuit closes, the backlog drains.
      stuckReceiver.replyAlways(200);
      await system.waitUntilSettled(30_000);
      const ended = (await system.dataSource.query(`SELECT id, status FROM notifications WHERE partner_id = $1 ORDER BY id`, [
        stuck.partnerUniqueId,
      ])) as Array<{ id: string; status: string }>;
      // Every one of the 30 ended (delivered, or failed if its schedule ran out while the circuit was open), and some got through.
      expect(ended.map((row) => row.id).sort()).toEqual([...stuckIds].sort());
      expect(ended.every((row) => row.status === 'delivered' || row.status === 'failed')).toBe(true);
      const deliveredIds = ended.filter((row) => row.status === 'delivered').map((row) => row.id);
      expect(deliveredIds.length).toBeGreaterThan(0);
      for (const id of deliveredIds) expect(stuckReceiver.deliveriesOf(id).some((request) => request.answeredStatus === 200)).toBe(true);
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
