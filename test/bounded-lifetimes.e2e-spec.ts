import { Queue } from 'bullmq';
import Redis from 'ioredis';
import request from 'supertest';
import { DELIVERY_QUEUE } from '@callbacks/queue';
import { type ChildApp, freePort, TestReceiver, waitUntil } from '@callbacks/testing';
import { BUILT_WORKER, startBuiltApp } from './support/processes';
import { ADMIN, type Partner, TestSystem } from './support/system';

const countByStatus = async (system: TestSystem, partner: Partner): Promise<Record<string, number>> => {
  const rows = (await system.dataSource.query(
    `SELECT status, count(*)::int AS n FROM notifications WHERE partner_id = $1 GROUP BY status`,
    [partner.partnerUniqueId],
  )) as Array<{
    status: string;
    n: number;
  }>;
  return Object.fromEntries(rows.map((row) => [row.status, row.n]));
};

const publishMany = async (system: TestSystem, partner: Partner, count: number): Promise<string[]> => {
  const responses = await Promise.all(
    Array.from({ length: count }, (_, n) =>
      system.http
        .post('/v1/notifications')
        .set(ADMIN)
        .send({ partnerUniqueId: partner.partnerUniqueId, notificationTypeId: 5, payload: { processUniqueId: `p${n}` } })
        .expect(202),
    ),
  );
  return responses.map((response) => response.body.notificationId as string);
};

const metric = (text: string, name: string): number =>
  Number(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\d+)`, 'm').exec(text)?.[1] ?? 0);

describe('one partner cannot hurt the others: parked backlogs and bounded lifetimes', () => {
  it('parks deliveries over the in-flight cap instead of polling, and drains them through handed-over slots', async () => {
    const system = await TestSystem.start({ CALLBACK_MAX_IN_FLIGHT: '2', WORKER_CONCURRENCY: '20' }, 0);
    const worker = await system.startWorker();
    const slow = (await TestReceiver.start()).replyAlways((_request, response) => setTimeout(() => response.end('ok'), 150));
    try {
      const partner = await system.createPartner();
      await system.registerCallback(partner, 5, slow.url);
      const ids = await publishMany(system, partner, 40);
      await slow.waitFor(40, 20_000);
      await waitUntil(async () => ((await countByStatus(system, partner)).delivered === 40 ? true : undefined), 10_000, 'all delivered');
      expect(slow.maxConcurrent).toBeLessThanOrEqual(2);
      expect(new Set(slow.requests.map((delivery) => delivery.headers['webhook-id']))).toEqual(new Set(ids));

      // Each held-back delivery parked once and was woken by a slot: polling every 200-1000 ms
      // over a 3 s drain would have deferred them many times over.
      const metrics = (await request(worker.getHttpServer()).get('/metrics')).text;
      const deferred = metric(metrics, 'webhook_deliveries_deferred_total{reason="in_flight_cap"}');
      expect(deferred).toBeGreaterThan(0);
      expect(deferred).toBeLessThanOrEqual(40);
      const attempts = (await system.dataSource.query(`SELECT count(*)::int AS n FROM delivery_attempts`)) as Array<{ n: number }>;
      expect(attempts[0].n).toBe(40);
    } finally {
      await slow.close();
      await system.close();
    }
  }, 60_000);

  it('wakes parked deliveries at once when Redis loses its data, not at their park timeout', async () => {
    const system = await TestSystem.start({ CALLBACK_MAX_IN_FLIGHT: '2', DELIVERY_TIMEOUT_MS: '3000' }, 0);
    const receiver = (await TestReceiver.start()).replyAlways('hang');
    const redis = new Redis(system.environment.config.redisUrl);
    try {
      const partner = await system.createPartner();
      await system.registerCallback(partner, 5, receiver.url);
      await system.startWorker();
      const ids = await publishMany(system, partner, 12);
      await waitUntil(
        async () => {
          const [{ n }] = (await system.dataSource.query(
            `SELECT count(*)::int AS n FROM notifications WHERE parked_at IS NOT NULL`,
          )) as Array<{ n: number }>;
          return n === 10 || undefined;
        },
        10_000,
        '10 deliveries parked behind the 2 in flight',
      );
      // Redis restarted without persistence: jobs, leases and waiting lists are gone.
      await system.stopWorkers();
      const keys = await redis.keys(`${system.environment.queuePrefix}:*`);
      await redis.del(...keys);
      receiver.replyAlways(200);
      await system.startWorker();
      await receiver.waitFor(12, 20_000);
      for (const id of ids) await system.waitForStatus(partner, id, 'delivered');
    } finally {
      redis.disconnect();
      await receiver.close();
      await system.close();
    }
  }, 60_000);

  it('ends every notification to a dead endpoint within its schedule even though the circuit never closes', async () => {
    const system = await TestSystem.start({
      RETRY_SCHEDULE: '300ms,300ms',
      CIRCUIT_OPEN_MS: '600000',
      CIRCUIT_FAILURE_THRESHOLD: '5',
      WORKER_CONCURRENCY: '20',
    });
    try {
      const partner = await system.createPartner();
      await system.registerCallback(partner, 5, `http://127.0.0.1:${await freePort()}/closed`);
      await publishMany(system, partner, 300);
      // The circuit stays open for 10 minutes: they can only end this soon by their schedule (0.6 s), which the attempts below show.
      await waitUntil(async () => ((await countByStatus(system, partner)).failed === 300 ? true : undefined), 60_000, 'all 300 failed');
      const errors = (await system.dataSource.query(`SELECT error, count(*)::int AS n FROM delivery_attempts GROUP BY error`)) as Array<{
        error: string;
        n: number;
      }>;
      const byError = Object.fromEntries(errors.map((row) => [row.error, row.n]));
      expect(byError.circuit_open).toBeGreaterThan(800);
      expect(byError.connection_refused).toBeGreaterThanOrEqual(5);
      expect(byError.connection_refused).toBeLessThan(100);
      // Three attempts each (the first and two retries), numbered 1 to 3.
      const numbering = (await system.dataSource.query(
        `SELECT min(attempt)::int AS lo, max(attempt)::int AS hi, count(*)::int AS n FROM delivery_attempts`,
      )) as Array<{
        lo: number;
        hi: number;
        n: number;
      }>;
      expect(numbering[0]).toEqual({ lo: 1, hi: 3, n: 900 });
    } finally {
      await system.close();
    }
  }, 60_000);

  it('keeps both attempts when a redelivery starts while an attempt is in flight, and ends with the new round', async () => {
    const system = await TestSystem.start({ DELIVERY_TIMEOUT_MS: '3000', RETRY_SCHEDULE: '200ms,200ms' });
    const receiver = await TestReceiver.start();
    try {
      receiver.replyWith((_request, response) => setTimeout(() => ((response.statusCode = 500), response.end('late failure')), 800), 200);
      const partner = await system.createPartner();
      await system.registerCallback(partner, 5, receiver.url);
      const [id] = await publishMany(system, partner, 1);
      await receiver.waitFor(1);
      await system.http.post(`/${partner.partnerUniqueId}/notifications/${id}/redeliver`).set(partner.auth).expect(202);
      await receiver.waitFor(2);
      await system.waitForStatus(partner, id, 'delivered');
      // The old round's 500 arrives after the new round's 200: logged, and it changes nothing.
      const detail = await waitUntil(
        async () => {
          const current = await system.notification(partner, id);
          return current.attempts.length === 2 && current.attemptCount === 2 ? current : undefined;
        },
        5_000,
        'both attempts logged',
      );
      expect(detail.status).toBe('delivered');
      expect(detail.attemptCount).toBe(2);
      expect(detail.attempts.map((attempt) => attempt.attempt).sort()).toEqual([1, 2]);
      expect(detail.attempts.map((attempt) => attempt.statusCode).sort()).toEqual([200, 500]);
      // Nothing pending, no job left: a third send would need one of them.
      await system.waitUntilSettled();
      expect(receiver.requests).toHaveLength(2);
      expect((await system.notification(partner, id)).status).toBe('delivered');
    } finally {
      await receiver.close();
      await system.close();
    }
  });

  it('reopens a failed notification only for an explicit retry of its failed job, not for a stray run', async () => {
    // The failures must not open the circuit: this test is about reopening, not isolation.
    const system = await TestSystem.start({ CIRCUIT_FAILURE_THRESHOLD: '100' });
    const receiver = (await TestReceiver.start()).replyAlways(500);
    const connection = new Redis(system.environment.config.redisUrl, { maxRetriesPerRequest: null });
    const queue = new Queue(DELIVERY_QUEUE, { connection, prefix: system.environment.queuePrefix });
    try {
      const partner = await system.createPartner();
      await system.registerCallback(partner, 5, receiver.url);
      const [stray, retried] = await publishMany(system, partner, 2);
      const failedJob = async (id: string) => {
        await system.waitForStatus(partner, id, 'failed');
        return waitUntil(async () => ((await queue.getJobState(id)) === 'failed' ? queue.getJob(id) : undefined), 5_000, 'the job to fail');
      };
      const [strayJob, retriedJob] = [await failedJob(stray), await failedJob(retried)];
      receiver.replyAlways(200);
      const sent = receiver.requests.length;

      // A run that is not a retry of the failed job (as after a stall once the failure was recorded).
      await strayJob!.retry('failed', { resetAttemptsMade: true });
      await waitUntil(async () => ((await queue.getJobState(stray)) === 'completed' ? true : undefined), 5_000, 'the stray run to finish');
      expect((await system.notification(partner, stray)).status).toBe('failed');
      expect(receiver.requests).toHaveLength(sent);

      // An operator's retry in Bull Board keeps attemptsMade: the notification gets a new round.
      await retriedJob!.retry('failed');
      const detail = await system.waitForStatus(partner, retried, 'delivered');
      expect(detail.attempts.at(-1)).toMatchObject({ statusCode: 200 });
      expect(receiver.requests).toHaveLength(sent + 1);
    } finally {
      await queue.close();
      connection.disconnect();
      await receiver.close();
      await system.close();
    }
  });

  it('fails with worker_crash a delivery whose worker processes were SIGKILLed three times under it, without a fourth run', async () => {
    // A short lock (DELIVERY_LOCK_MS, an operator setting) makes each stall seconds long instead of a minute.
    const system = await TestSystem.start({ DELIVERY_TIMEOUT_MS: '3000', DELIVERY_LOCK_MS: '5000' }, 0);
    const receiver = (await TestReceiver.start()).replyAlways('hang');
    const workers: ChildApp[] = [];
    const startWorker = async () => {
      const worker = startBuiltApp(BUILT_WORKER, { ...system.environment.env, LOG_LEVEL: 'info' });
      workers.push(worker);
      await worker.waitForOutput('worker running');
      return worker;
    };
    try {
      const partner = await system.createPartner();
      await system.registerCallback(partner, 5, receiver.url);
      const [id] = await publishMany(system, partner, 1);
      // Each worker takes the delivery (the receiver has it, unanswered) and dies with it in flight.
      for (let crash = 1; crash <= 3; crash++) {
        const worker = await startWorker();
        await receiver.waitFor(crash, 30_000);
        worker.kill('SIGKILL');
        await worker.exited;
      }
      expect(new Set(receiver.requests.map((request) => request.headers['webhook-id']))).toEqual(new Set([id]));
      // The next worker finds the job stalled once too often: BullMQ fails it without running it.
      const survivor = await startWorker();
      const detail = await system.waitForStatus(partner, id, 'failed', 30_000);
      expect(detail.statusReason).toBe('worker_crash');
      expect(detail.attempts).toEqual([
        expect.objectContaining({ attempt: 1, error: 'worker_crash', statusCode: null, callbackUrl: receiver.url }),
      ]);
      await system.waitUntilSettled();
      expect(receiver.requests).toHaveLength(3);
      expect(survivor.output).toContain('delivery crashed its workers repeatedly; failed with worker_crash');

      // A partner's redelivery is an explicit action: it runs again.
      receiver.replyAlways(200);
      await system.http.post(`/${partner.partnerUniqueId}/notifications/${id}/redeliver`).set(partner.auth).expect(202);
      await system.waitForStatus(partner, id, 'delivered');
    } finally {
      for (const worker of workers) worker.kill('SIGKILL');
      await receiver.close();
      await system.close();
    }
  }, 120_000);
});
