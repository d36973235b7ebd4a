import { Test, type TestingModule } from '@nestjs/testing';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import {
  DeliveryQueues,
  deliveryJobId,
  enqueueDeliveries,
  intakeInDoubtKey,
  redisConnectionOptions,
  STALLED_TOO_OFTEN,
} from '@callbacks/queue';
import { createTestEnvironment, type TestEnvironment } from '@callbacks/testing';
import { DeliveryProcessor } from '../delivery/delivery.processor';
import { PeriodicPassRunner } from '../passes/periodic-pass-runner';
import { WorkerModule } from '../worker.module';
import { type ReconcileReport, Reconciler } from './reconciler';

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
  const partnerId = randomUUID();

  beforeAll(async () => {
    // Grace: max(2 × 1 h, …) = 2 hours.
    environment = await createTestEnvironment({ RECONCILE_INTERVAL_MS: '3600000' });
    // The worker's providers, built but not started: no processor takes jobs, no timer runs a pass.
    moduleRef = await Test.createTestingModule({ imports: [WorkerModule.register(environment.config)] })
      .overrideProvider(DeliveryProcessor)
      .useValue({})
      .compile();
    const runner = moduleRef.get(PeriodicPassRunner);
    const reconciler = moduleRef.get(Reconciler);
    runPass = () => runner.runOnce(reconciler);
    queues = moduleRef.get(DeliveryQueues);
    db = new Pool({ connectionString: environment.databaseUrl, max: 2 });
    await db.query(`INSERT INTO partners (id, name) VALUES ($1, 'Acme')`, [partnerId]);
    hand = new Worker(queues.all[0].name, null, {
      connection: redisConnectionOptions(environment.config.redisUrl, 'worker'),
      prefix: environment.queuePrefix,
      autorun: false,
    });
  });
  afterAll(async () => {
    await hand.close();
    await db.end();
    await moduleRef.close();
    await environment.destroy();
  });
  beforeEach(async () => {
    await db.query(`DELETE FROM delivery_attempts`);
    await db.query(`DELETE FROM notifications`);
    await queues.all[0].obliterate({ force: true });
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

    expect(await runPass()).toEqual({ scanned: 2, reenqueued: 2, retried: 0, quarantined: 0, unparked: 0 });
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
