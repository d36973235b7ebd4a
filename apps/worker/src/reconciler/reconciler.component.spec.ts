import type { TestingModule } from '@nestjs/testing';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import {
  callbackKeys,
  DeliveryQueues,
  deliveryJobId,
  enqueueDeliveries,
  intakeInDoubtKey,
  redisConnectionOptions,
  STALLED_TOO_OFTEN,
} from '@callbacks/queue';
import { createTestEnvironment, type TestEnvironment } from '@callbacks/testing';
import { CallbackGuard } from '../isolation/callback-guard';
import { WorkerModule } from '../worker.module';
import { type ReconcileReport, Reconciler } from './reconciler';
import { workerComponent } from '../../test/worker-component';

/**
 * One reconciler pass at a time against a real PostgreSQL and Redis, the worker's providers built
 * but not started (no processor, no timer: each pass here is run by hand): which rows a pass reads,
 * its paging, and what it does with a missing, completed or failed job. Rows are made due by the
 * database's clock (now() minus an interval), the clock the pass itself reads.
 */
describe('Reconciler (component: one pass on PostgreSQL and Redis)', () => {
  let environment: TestEnvironment;
  let moduleRef: TestingModule;
  let runPass: () => Promise<ReconcileReport | null>;
  let queues: DeliveryQueues;
  let db: Pool;
  /** Takes jobs by hand (BullMQ's manual processing), to leave them completed or failed. */
  let hand: Worker;
  /** Plays what the apps cannot be asked to do: a lease that ran out, keys that start empty. */
  let redis: Redis;
  const partnerId = randomUUID();

  beforeAll(async () => {
    // Grace: max(2 × 1 h, …) = 2 hours.
    environment = await createTestEnvironment({ RECONCILE_INTERVAL_MS: '3600000' });
    // The worker's providers, built but not started: no processor takes jobs, no timer runs a pass.
    ({ moduleRef, queues, runPass } = await workerComponent(WorkerModule.register(environment.config)));
    db = new Pool({ connectionString: environment.databaseUrl, max: 2 });
    redis = new Redis(environment.config.redisUrl);
    await db.query(`INSERT INTO partners (id, name) VALUES ($1, 'Acme')`, [partnerId]);
    hand = new Worker(queues.all[0].name, null, {
      connection: redisConnectionOptions(environment.config.redisUrl, 'worker'),
      prefix: environment.queuePrefix,
      autorun: false,
    });
  });
  afterAll(async () => {
    await hand.close();
    redis.disconnect();
    await db.end();
    await moduleRef.close();
    await environment.destroy();
  });
  beforeEach(async () => {
    await db.query(`DELETE FROM delivery_attempts`);
    await db.query(`DELETE FROM notifications`);
    await queues.all[0].obliterate({ force: true });
    // The callback's isolation keys (leases, parked and handed jobs) start empty too.
    await redis.del(...Object.values(callbackKeys(environment.config, partnerId, 5)));
  });

  /** A pending notification due `due` (an SQL expression), without a job. */
  const notification = async (due: string, updated = 'now()'): Promise<string> => {
    const id = randomUUID();
    await db.query(
      `INSERT INTO notifications (id, partner_id, notification_type_id, payload, process_unique_id, status, next_attempt_at, updated_at)
       VALUES ($1, $2, 5, '{"processUniqueId":"P"}', 'P', 'pending', ${due}, ${updated})`,
      [id, partnerId],
    );
    return id;
  };
  const jobState = (id: string) => queues.all[0].getJobState(deliveryJobId(id, 0));
  /** Gives the notification its job, takes it by hand and ends it as `end` says. */
  const jobEndedAs = async (id: string, end: (job: Job, token: string) => Promise<unknown>) => {
    await enqueueDeliveries(queues, [{ notificationId: id, partnerId, notificationTypeId: 5, round: 0, test: false }]);
    const token = randomUUID();
    const job = await hand.getNextJob(token);
    expect(job?.id).toBe(id);
    await end(job!, token);
  };

  it('reads only rows overdue by more than the grace, and NULL-due rows quiet since the cutoff; re-adds their missing jobs', async () => {
    const overdue = await notification(`now() - interval '3 hours'`);
    const withinGrace = await notification(`now() - interval '1 hour'`);
    const dueLater = await notification(`now() + interval '1 hour'`);
    const undatedQuiet = await notification('NULL', `now() - interval '3 hours'`);
    const undatedRecent = await notification('NULL');

    expect(await runPass()).toEqual({ scanned: 2, reenqueued: 2, retried: 0, quarantined: 0, unparked: 0, lostWakes: 0, woken: 0 });
    for (const id of [overdue, undatedQuiet]) expect(['waiting', 'delayed']).toContain(await jobState(id));
    // Had the pass looked these up, it would have found no job and added one.
    for (const id of [withinGrace, dueLater, undatedRecent]) expect(await jobState(id)).toBe('unknown');
  });

  it('never enqueues an intake write whose request was answered 503 while its commit was in doubt (listed in Redis)', async () => {
    const inDoubt = await notification(`now() - interval '3 hours'`);
    const lost = await notification(`now() - interval '3 hours'`);
    const redis = await queues.all[0].backend.client;
    const key = intakeInDoubtKey(environment.config.queuePrefix);
    await redis.hset(key, inDoubt, JSON.stringify({ notificationId: inDoubt, txid: '1', partnerId, notificationTypeId: 5, test: false }));
    try {
      expect(await runPass()).toMatchObject({ scanned: 2, reenqueued: 1 });
      expect(await jobState(inDoubt)).toBe('unknown');
      expect(await jobState(lost)).toBe('waiting');
    } finally {
      await redis.del(key);
    }
  });

  it('leaves a job that will run alone', async () => {
    const id = await notification(`now() - interval '3 hours'`);
    await enqueueDeliveries(queues, [{ notificationId: id, partnerId, notificationTypeId: 5, round: 0, test: false }]);
    expect(await runPass()).toMatchObject({ scanned: 1, reenqueued: 0, retried: 0 });
    expect(await jobState(id)).toBe('waiting');
  });

  it('removes and re-adds a completed job, and retries a failed one of a pending notification', async () => {
    const completed = await notification(`now() - interval '3 hours'`);
    await jobEndedAs(completed, (job, token) => job.moveToCompleted('done', token, false));
    const failed = await notification(`now() - interval '3 hours'`);
    await jobEndedAs(failed, (job, token) => job.moveToFailed(new UnrecoverableError('PostgreSQL unreachable'), token, false));
    expect([await jobState(completed), await jobState(failed)]).toEqual(['completed', 'failed']);

    expect(await runPass()).toMatchObject({ scanned: 2, reenqueued: 1, retried: 1, quarantined: 0 });
    expect(await jobState(completed)).toBe('waiting');
    expect(await jobState(failed)).toBe('waiting');
  });

  it('ends a notification whose job crashed its workers too often, instead of retrying it', async () => {
    const crashed = await notification(`now() - interval '3 hours'`);
    await jobEndedAs(crashed, (job, token) => job.moveToFailed(new UnrecoverableError(STALLED_TOO_OFTEN), token, false));

    expect(await runPass()).toMatchObject({ scanned: 1, reenqueued: 0, retried: 0, quarantined: 1 });
    expect(await jobState(crashed)).toBe('failed');
    const [row] = (await db.query(`SELECT status, status_reason FROM notifications WHERE id = $1`, [crashed])).rows;
    expect(row).toEqual({ status: 'failed', status_reason: 'worker_crash' });
  });

  it('pages through more overdue rows than one batch, in index order, each once', async () => {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO notifications (id, partner_id, notification_type_id, payload, process_unique_id, status, next_attempt_at)
       SELECT gen_random_uuid(), $1, 5, '{"processUniqueId":"P"}', 'P', 'pending',
              -- Many rows share one due time (to the microsecond): the id breaks the tie in the paging key.
              now() - interval '3 hours' - (i % 3) * interval '1.000001 second'
         FROM generate_series(1, 1001) AS i
       RETURNING id`,
      [partnerId],
    );
    expect(await runPass()).toMatchObject({ scanned: 1001, reenqueued: 1001 });
    const states = await Promise.all(rows.map((row) => jobState(row.id)));
    expect(states.filter((state) => state !== 'waiting')).toEqual([]);
    expect(await queues.all[0].getWaitingCount()).toBe(1001);
  });

  it('does not read a parked backlog; finds a lost wake per callback and wakes the first parked jobs to the front of the queue', async () => {
    const guard = moduleRef.get(CallbackGuard);
    const callback = { partnerId, notificationTypeId: 5 };
    const limits = { maxInFlight: environment.config.callbackMaxInFlight, ratePerSecond: null };
    const fillers = Array.from({ length: limits.maxInFlight }, (_, index) => `filler-${index}`);
    for (const filler of fillers) expect(await guard.admit(callback, filler, limits)).toEqual({ admitted: true });
    // Three deliveries overdue by hours, parked behind the cap: their jobs sleep (a day), their rows are parked.
    const parked = [];
    for (let index = 0; index < 3; index++) {
      const id = await notification(`now() - interval '3 hours'`);
      await db.query(`UPDATE notifications SET parked_at = now() WHERE id = $1`, [id]);
      await enqueueDeliveries(queues, [
        { notificationId: id, partnerId, notificationTypeId: 5, round: 0, test: false, dueAt: new Date(Date.now() + 86_400_000) },
      ]);
      expect(await guard.admit(callback, deliveryJobId(id, 0), limits)).toMatchObject({ admitted: false, reason: 'in_flight_cap' });
      parked.push(id);
    }
    // A long wait list of unrelated work is in the queue already.
    const unrelated = Array.from({ length: 2_000 }, () => randomUUID());
    await enqueueDeliveries(
      queues,
      unrelated.map((notificationId) => ({ notificationId, partnerId, notificationTypeId: 6, round: 0, test: false })),
    );

    expect(await runPass()).toMatchObject({ scanned: 0, lostWakes: 0 });
    expect(await Promise.all(parked.map(jobState))).toEqual(['delayed', 'delayed', 'delayed']);

    // Two workers die mid-delivery: their slots free themselves, and no delivery ends to hand them on.
    await redis.zrem(callbackKeys(environment.config, partnerId, 5).inFlight, fillers[0], fillers[1]);
    expect(await runPass()).toMatchObject({ scanned: 0, lostWakes: 2 });
    expect(await Promise.all(parked.map(jobState))).toEqual(['waiting', 'waiting', 'delayed']);
    // The woken jobs go before the work that was waiting, in their parking order.
    const token = randomUUID();
    expect((await hand.getNextJob(token))?.id).toBe(parked[0]);
    expect((await hand.getNextJob(token))?.id).toBe(parked[1]);
    expect((await hand.getNextJob(token))?.id).toBe(unrelated[0]);
    // Their slots were kept for them; the callback is still full, so the third stays parked.
    expect(await guard.admit(callback, parked[0], limits)).toEqual({ admitted: true });
    expect(await runPass()).toMatchObject({ lostWakes: 0 });
  });

  it('gives on the slot of a parked job found gone when woken, and unparks its row so the same pass re-adds its job', async () => {
    const guard = moduleRef.get(CallbackGuard);
    const callback = { partnerId, notificationTypeId: 5 };
    const limits = { maxInFlight: 1, ratePerSecond: null };
    expect(await guard.admit(callback, 'filler', limits)).toEqual({ admitted: true });
    const [gone, next] = [await notification(`now() - interval '3 hours'`), await notification(`now() - interval '3 hours'`)];
    for (const id of [gone, next]) {
      await db.query(`UPDATE notifications SET parked_at = now() WHERE id = $1`, [id]);
      await enqueueDeliveries(queues, [
        { notificationId: id, partnerId, notificationTypeId: 5, round: 0, test: false, dueAt: new Date(Date.now() + 86_400_000) },
      ]);
      expect(await guard.admit(callback, deliveryJobId(id, 0), limits)).toMatchObject({ admitted: false, reason: 'in_flight_cap' });
    }
    // The first parked job is removed (Bull Board), and the filler's worker dies: its slot frees itself.
    await queues.all[0].remove(deliveryJobId(gone, 0));
    await redis.zrem(callbackKeys(environment.config, partnerId, 5).inFlight, 'filler');

    // The pass's default cap (CALLBACK_MAX_IN_FLIGHT) is above 1: both parked jobs get a slot; the gone one gives its slot up.
    expect(await runPass()).toMatchObject({ lostWakes: 2, scanned: 1, reenqueued: 1 });
    expect(await jobState(gone)).toBe('waiting');
    expect(await jobState(next)).toBe('waiting');
    const { rows } = await db.query(`SELECT id FROM notifications WHERE parked_at IS NOT NULL`);
    expect(rows.map((row) => row.id)).toEqual([next]);
    expect(await guard.handedStart(callback, deliveryJobId(gone, 0))).toBeNull();
  });

  it('skips the pass while another session holds its lock', async () => {
    await notification(`now() - interval '3 hours'`);
    const holder = await db.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [moduleRef.get(Reconciler).lock.id]);
      expect(await runPass()).toBeNull();
    } finally {
      await holder.query('SELECT pg_advisory_unlock_all()');
      holder.release();
    }
    expect(await runPass()).toMatchObject({ scanned: 1, reenqueued: 1 });
  });
});
