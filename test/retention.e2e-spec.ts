import type { INestApplication } from '@nestjs/common';
import { Metrics } from '@callbacks/observability';
import { DatabaseLock } from '@callbacks/persistence';
import { TestReceiver, waitUntil } from '@callbacks/testing';
import { PeriodicPassRunner } from '../apps/worker/src/passes/periodic-pass-runner';
import { RetentionSweep } from '../apps/worker/src/retention/retention-sweep';
import { BUILT_WORKER, startBuiltApp } from './support/processes';
import { ADMIN, type Partner, TestSystem } from './support/system';

/** Short retention and a sweep every second, as the issue asks. */
const RETENTION = { RETENTION_PERIOD: '4s', RETENTION_SWEEP_INTERVAL_MS: '1000' };
/** The sweep's advisory lock, as a previous release takes it too. */
const RETENTION_LOCK_ID = DatabaseLock.RetentionSweep;
/** In every payload: no log line may ever carry it. */
const PAYLOAD_MARKER = 'payload-marker-must-not-be-logged';

async function metric(worker: INestApplication, name: string, labels: string): Promise<number> {
  const text = await worker.get(Metrics).registry.metrics();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('retention: what is kept and for how long', () => {
  let receiver: TestReceiver;
  let failing: TestReceiver;

  beforeEach(async () => {
    receiver = await TestReceiver.start();
    failing = (await TestReceiver.start()).replyAlways(500);
  });
  afterEach(async () => {
    await receiver.close();
    await failing.close();
  });

  const publish = (system: TestSystem, partner: Partner, notificationTypeId: number, key?: string) => {
    const call = system.http.post('/v1/notifications').set(ADMIN);
    return (key ? call.set('Idempotency-Key', key) : call)
      .send({ partnerUniqueId: partner.partnerUniqueId, notificationTypeId, payload: { processUniqueId: 'PRC-R', note: PAYLOAD_MARKER } })
      .expect(202)
      .then((response) => response.body.notificationId as string);
  };
  const get = (system: TestSystem, partner: Partner, id: string) =>
    system.http.get(`/${partner.partnerUniqueId}/notifications/${id}`).set(partner.auth);
  const listed = async (system: TestSystem, partner: Partner) =>
    (
      (await system.http.get(`/${partner.partnerUniqueId}/notifications`).set(partner.auth).expect(200)).body.items as Array<{
        notificationId: string;
      }>
    ).map((item) => item.notificationId);

  it('deletes delivered and failed notifications, with their attempts, once unchanged for RETENTION_PERIOD', async () => {
    const system = await TestSystem.start({ ...RETENTION, RETRY_SCHEDULE: '100ms,100ms' }, 0);
    try {
      const worker = await system.startWorker();
      const partner = await system.createPartner();
      await system.registerCallback(partner, 5, receiver.url);
      await system.registerCallback(partner, 6, failing.url);
      const delivered = await publish(system, partner, 5, 'kept-with-its-notification');
      const failed = await publish(system, partner, 6);
      const skipped = await publish(system, partner, 7);
      await system.waitForStatus(partner, delivered, 'delivered');
      await system.waitForStatus(partner, failed, 'failed');
      expect(await listed(system, partner)).toEqual(expect.arrayContaining([delivered, failed, skipped]));

      await waitUntil(
        async () => (await get(system, partner, delivered)).status === 404 && (await get(system, partner, failed)).status === 404,
        15_000,
        'expired notifications deleted',
      );
      expect((await get(system, partner, skipped)).status).toBe(404);
      expect((await get(system, partner, delivered)).body.code).toBe('notification_not_found');
      expect(await listed(system, partner)).toEqual([]);
      const leftovers = await system.dataSource.query(
        `SELECT (SELECT count(*) FROM notifications)::int AS notifications, (SELECT count(*) FROM delivery_attempts)::int AS attempts, (SELECT count(*) FROM idempotency_keys)::int AS keys`,
      );
      expect(leftovers).toEqual([{ notifications: 0, attempts: 0, keys: 0 }]);
      expect(await metric(worker, 'webhook_retention_deleted_total', 'kind="notifications"')).toBe(3);
      expect(await metric(worker, 'webhook_retention_deleted_total', 'kind="attempts"')).toBe(4);
    } finally {
      await system.close();
    }
  });

  it('keeps a pending notification (retrying on a long schedule) and deletes idempotency keys past their 24 hours', async () => {
    const system = await TestSystem.start({ ...RETENTION, RETRY_SCHEDULE: '100ms,1h' }, 0);
    // A worker as its own process, to read its log lines.
    const worker = startBuiltApp(BUILT_WORKER, { ...system.environment.env, LOG_LEVEL: 'info' });
    try {
      await worker.waitForOutput('worker running');
      const partner = await system.createPartner();
      await system.registerCallback(partner, 5, receiver.url);
      await system.registerCallback(partner, 6, failing.url);
      const pending = await publish(system, partner, 6, 'old-key');
      await failing.waitFor(2, 10_000);
      await waitUntil(async () => (await system.notification(partner, pending)).attemptCount === 2, 10_000, 'second attempt recorded');
      const fresh = await publish(system, partner, 6, 'fresh-key');
      await system.dataSource.query(`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old-key'`);
      // Operator events end like notifications: a delivered one past the period goes, a pending one stays.
      await system.dataSource.query(
        `INSERT INTO operator_events (id, type, data, status, updated_at) VALUES
           (gen_random_uuid(), 'callback.recovered', '{}', 'delivered', now() - interval '1 hour'),
           (gen_random_uuid(), 'callback.disabled', '{}', 'pending', now() - interval '1 hour')`,
      );
      // Changed after the pending one: once it is gone, a sweep has passed the pending one's age.
      const control = await publish(system, partner, 5);
      await system.waitForStatus(partner, control, 'delivered');

      await waitUntil(
        async () => (await get(system, partner, control)).status === 404,
        15_000,
        'the delivered control notification deleted',
      );
      await worker.waitForOutput(/"action":"retention_sweep"[^\n]*"notifications":1/);
      const detail = await system.notification(partner, pending);
      expect(detail).toMatchObject({ status: 'pending', attemptCount: 2 });
      expect(detail.attempts).toHaveLength(2);
      expect(await listed(system, partner)).toEqual([fresh, pending]);
      const keys = (await system.dataSource.query('SELECT key FROM idempotency_keys ORDER BY key')) as Array<{ key: string }>;
      expect(keys.map((row) => row.key)).toEqual(['fresh-key']);
      await waitUntil(
        async () => {
          const events = (await system.dataSource.query('SELECT status FROM operator_events')) as Array<{ status: string }>;
          return events.length === 1 && events[0].status === 'pending' ? true : undefined;
        },
        10_000,
        'the expired operator event deleted, the pending one kept',
      );

      const audit = worker.output
        .split('\n')
        .filter((line) => line.includes('"audit":true'))
        .map((line) => JSON.parse(line));
      expect(audit.length).toBeGreaterThan(0);
      expect(audit.reduce((sum, line) => sum + line.notifications, 0)).toBe(1);
      expect(audit.reduce((sum, line) => sum + line.idempotencyKeys, 0)).toBe(1);
      expect(audit.find((line) => line.notifications === 1)).toMatchObject({
        action: 'retention_sweep',
        byStatus: { delivered: 1 },
        attempts: 1,
      });
      expect(worker.output).not.toContain(PAYLOAD_MARKER);
    } finally {
      await worker.stop();
      await system.close();
    }
  });

  it('sweeps in one worker at a time: none while another session holds the lock, one of two started together', async () => {
    const system = await TestSystem.start(RETENTION, 0);
    try {
      const workers = [await system.startWorker(), await system.startWorker()];
      const sweeps = workers.map((worker) => () => worker.get(PeriodicPassRunner).runOnce(worker.get(RetentionSweep)));
      const partner = await system.createPartner();
      const expire = (count: number) =>
        system.dataSource.query(
          `INSERT INTO notifications (id, partner_id, notification_type_id, payload, process_unique_id, status, status_reason, updated_at)
           SELECT gen_random_uuid(), $1, 5, '{"processUniqueId":"P"}', 'P', 'skipped', 'no_callback', now() - interval '1 hour' FROM generate_series(1, $2)`,
          [partner.partnerUniqueId, count],
        );
      const remaining = async () => Number((await system.dataSource.query('SELECT count(*) AS n FROM notifications'))[0].n);

      const holder = system.dataSource.createQueryRunner();
      await holder.connect();
      try {
        await holder.query('SELECT pg_advisory_lock($1)', [RETENTION_LOCK_ID]);
        await expire(10);
        const skippedBefore = await Promise.all(
          workers.map((worker) => metric(worker, 'webhook_retention_sweeps_total', 'result="skipped_locked"')),
        );
        // Both workers' timers try, and give way.
        await waitUntil(
          async () =>
            (
              await Promise.all(
                workers.map((worker, i) =>
                  metric(worker, 'webhook_retention_sweeps_total', 'result="skipped_locked"').then((n) => n > skippedBefore[i]),
                ),
              )
            ).every(Boolean),
          10_000,
          'both workers found the lock taken',
        );
        expect(await Promise.all(sweeps.map((sweep) => sweep()))).toEqual([null, null]);
        expect(await remaining()).toBe(10);
      } finally {
        await holder.query('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK_ID]);
        await holder.release();
      }
      await waitUntil(async () => (await remaining()) === 0, 10_000, 'the sweep resumed once the lock was free');

      // Started together on 5,000 expired rows (five batches): one sweeps them all while the other finds the lock taken.
      // Sweeps that both ran (one after the other, or a timer's in between) never overlap in time.
      let contested = 0;
      for (let round = 0; round < 5 && contested < 2; round++) {
        await expire(5_000);
        const reports = await Promise.all(sweeps.map((sweep) => sweep()));
        const ran = reports.filter((report) => report !== null);
        if (ran.length === 2) {
          const [first, second] = [...ran].sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
          expect(first.startedAt.getTime() + first.durationMs).toBeLessThanOrEqual(second.startedAt.getTime());
        }
        if (ran.length === 1 && ran[0].notifications === 5_000) contested++;
        await waitUntil(async () => (await remaining()) === 0, 10_000, 'expired rows deleted');
      }
      expect(contested).toBeGreaterThanOrEqual(1);
    } finally {
      await system.close();
    }
  });
});
