import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { DELIVERY_QUEUE } from '@callbacks/queue';
import { TestReceiver } from '@callbacks/testing';
import { PeriodicPassRunner } from '../apps/worker/src/passes/periodic-pass-runner';
import { overdueGraceMs, Reconciler } from '../apps/worker/src/reconciler/reconciler';
import { ADMIN, type Partner, TestSystem } from './support/system';

describe('reconciler: reads only overdue pending notifications', () => {
  let system: TestSystem;
  let receiver: TestReceiver;
  let partner: Partner;
  let queue: Queue;

  beforeAll(async () => {
    // The longest interval: no timer pass runs during the test, each pass here is called by hand. Grace = 2 hours.
    system = await TestSystem.start({ RECONCILE_INTERVAL_MS: '3600000' }, 0);
    receiver = await TestReceiver.start();
    partner = await system.createPartner();
    await system.registerCallback(partner, 5, receiver.url);
    queue = system.api.get<Queue>(getQueueToken(DELIVERY_QUEUE));
  });
  afterAll(async () => {
    await receiver.close();
    await system.close();
  });

  const publish = async (processUniqueId: string) =>
    (
      await system.http
        .post('/v1/notifications')
        .set(ADMIN)
        .send({ partnerUniqueId: partner.partnerUniqueId, notificationTypeId: 5, payload: { processUniqueId } })
        .expect(202)
    ).body.notificationId as string;
  /** As after a Redis data loss: the row is pending, its job is gone. */
  const loseJob = async (id: string, nextAttemptAt: string) => {
    expect(await queue.remove(id)).toBe(1);
    await system.dataSource.query(`UPDATE notifications SET next_attempt_at = ${nextAttemptAt} WHERE id = $1`, [id]);
  };

  it('chooses a grace above two intervals and one attempt deadline', () => {
    expect(overdueGraceMs({ reconcileIntervalMs: 15_000, deliveryTimeoutMs: 15_000 })).toBe(30_000);
    expect(overdueGraceMs({ reconcileIntervalMs: 400, deliveryTimeoutMs: 800 })).toBe(5_800);
    expect(overdueGraceMs(system.environment.config)).toBe(7_200_000);
  });

  it('does not look up a quiet pending row (due later) in Redis, and re-enqueues an overdue one whose job is gone', async () => {
    const quiet = await publish('PRC-QUIET');
    const overdue = await publish('PRC-OVERDUE');
    const justDue = await publish('PRC-JUST-DUE');
    await loseJob(quiet, `now() + interval '1 hour'`);
    await loseJob(overdue, `now() - interval '3 hours'`);
    // Due an hour ago: late, but within the grace (a long queue, a slow attempt); not yet the reconciler's business.
    await loseJob(justDue, `now() - interval '1 hour'`);

    const worker = await system.startWorker();
    const report = await worker.get(PeriodicPassRunner).runOnce(worker.get(Reconciler));
    expect(report).toMatchObject({ scanned: 1, reenqueued: 1, retried: 0 });
    await receiver.waitFor(1, 10_000, (request) => request.headers['webhook-id'] === overdue);
    await system.waitForStatus(partner, overdue, 'delivered');
    // Had the pass looked these up, it would have found no job and added one.
    expect(await queue.getJobState(quiet)).toBe('unknown');
    expect(await queue.getJobState(justDue)).toBe('unknown');
    expect(receiver.deliveriesOf(quiet)).toHaveLength(0);

    // A row that is overdue but has its job (waiting behind others) is looked at and left alone.
    await system.stopWorkers();
    const queued = await publish('PRC-QUEUED');
    await system.dataSource.query(`UPDATE notifications SET next_attempt_at = now() - interval '3 hours' WHERE id = $1`, [queued]);
    const nextWorker = await system.startWorker();
    const next = await nextWorker.get(PeriodicPassRunner).runOnce(nextWorker.get(Reconciler));
    expect(next).toMatchObject({ scanned: 1, reenqueued: 0, retried: 0 });
    await system.waitForStatus(partner, queued, 'delivered');
  });

  it('pages through more overdue rows than one batch, in index order, each once', async () => {
    await system.stopWorkers();
    const rows = (await system.dataSource.query(
      `INSERT INTO notifications (id, partner_id, notification_type_id, payload, process_unique_id, status, next_attempt_at)
       SELECT gen_random_uuid(), $1, 5, '{"processUniqueId":"P"}', 'P', 'pending',
              -- Many rows share one due time (to the microsecond): the id breaks the tie in the paging key.
              now() - interval '3 hours' - (i % 7) * interval '1.000001 second'
         FROM generate_series(1, 1200) AS i
       RETURNING id`,
      [partner.partnerUniqueId],
    )) as Array<{ id: string }>;
    const ids = new Set(rows.map((row) => row.id));
    const worker = await system.startWorker();
    const report = await worker.get(PeriodicPassRunner).runOnce(worker.get(Reconciler));
    expect(report).toMatchObject({ scanned: 1200, reenqueued: 1200, retried: 0 });
    // Each has its job again (waiting, or already taken by the worker).
    const states = await Promise.all([...ids].map((id) => queue.getJobState(id)));
    expect(states.filter((state) => state === 'unknown')).toEqual([]);
  });
});
