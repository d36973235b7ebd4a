import type { TestingModule } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { addDeliveryJobs, callbackShard, DeliveryQueues, deliveryJobId, removeDeliveryJobs } from '@callbacks/queue';
import { createTestEnvironment, type TestEnvironment } from '@callbacks/testing';
import { DeliveryProcessor } from '../delivery/delivery.processor';
import { WorkerModule } from '../worker.module';
import type { ReconcileReport } from './reconciler';
import { workerComponent } from '../../test/worker-component';

/**
 * The reconciler after QUEUE_SHARDS went from 1 to 3, its passes run by hand: jobs added while there
 * was one shard are all in shard 0's queue, whatever shard their callback has now. A pass finds them
 * there, wakes the parked deliveries of the callbacks that moved (once), and adds no second job in
 * the new shard for a job that exists in the former one.
 */
describe('Reconciler after a change of QUEUE_SHARDS (component: passes on PostgreSQL and Redis)', () => {
  let environment: TestEnvironment;
  let moduleRef: TestingModule;
  let runPass: () => Promise<ReconcileReport | null>;
  let queues: DeliveryQueues;
  let db: Pool;
  /** A partner whose type-5 callback is on each shard of three. */
  const partnerOnShard: string[] = [];

  beforeAll(async () => {
    environment = await createTestEnvironment({ RECONCILE_INTERVAL_MS: '3600000', QUEUE_SHARDS: '3' });
    // No processor takes jobs: shard 0's is replaced as in the reconciler's own spec, the other shards' are left out.
    const workerModule = WorkerModule.register(environment.config);
    workerModule.providers = workerModule.providers?.filter(
      (provider) => !(typeof provider === 'function' && provider.prototype instanceof DeliveryProcessor),
    );
    ({ moduleRef, queues, runPass } = await workerComponent(workerModule));
    db = new Pool({ connectionString: environment.databaseUrl, max: 2 });
    while (partnerOnShard.filter(Boolean).length < 3) {
      const partnerId = randomUUID();
      partnerOnShard[callbackShard(environment.config, partnerId, 5).index] ??= partnerId;
    }
    for (const partnerId of partnerOnShard) await db.query(`INSERT INTO partners (id, name) VALUES ($1, 'Acme')`, [partnerId]);
    // The first pass records the epochs and the count: from here on, Redis has kept its data.
    await runPass();
  });
  afterAll(async () => {
    await db.end();
    await moduleRef.close();
    await environment.destroy();
  });
  beforeEach(async () => {
    await db.query(`DELETE FROM notifications`);
    await Promise.all(queues.all.map((queue) => queue.drain(true)));
    // The count the previous workers ran with.
    await setLayout('1');
  });

  /** The shard count the reconciler last saw, kept under shard 0's tag. */
  const layoutKey = () => `${queues.all[0].opts.prefix}:${queues.all[0].name}:queue-shards`;
  const layout = async () => (await queues.all[0].backend.client).get(layoutKey());
  const setLayout = async (count: string) => (await queues.all[0].backend.client).set(layoutKey(), count);

  /** A pending notification of the callback on `shard`; parked (due at its park timeout), or overdue for hours. */
  const notification = async (shard: number, kind: 'parked' | 'overdue'): Promise<string> => {
    const id = randomUUID();
    await db.query(
      `INSERT INTO notifications (id, partner_id, notification_type_id, payload, process_unique_id, status, next_attempt_at, parked_at)
       VALUES ($1, $2, 5, '{"processUniqueId":"P"}', 'P', 'pending', ${kind === 'parked' ? `now() + interval '5 minutes', now()` : `now() - interval '3 hours', NULL`})`,
      [id, partnerOnShard[shard]],
    );
    return id;
  };
  /** Its job as added while QUEUE_SHARDS was 1: in shard 0's queue, delayed to its park timeout. */
  const jobInShard0 = (id: string, shard: number) =>
    addDeliveryJobs(queues.all[0], [
      {
        notificationId: id,
        partnerId: partnerOnShard[shard],
        notificationTypeId: 5,
        round: 0,
        test: false,
        dueAt: new Date(Date.now() + 300_000),
      },
    ]);
  const states = (id: string) => Promise.all(queues.all.map((queue) => queue.getJobState(deliveryJobId(id, 0))));

  it('promotes, where they are, the parked jobs of the callbacks that moved, gives a job to one that has none, and does it once', async () => {
    const moved = await notification(1, 'parked');
    await jobInShard0(moved, 1);
    const stayed = await notification(0, 'parked');
    await jobInShard0(stayed, 0);
    const lost = await notification(2, 'parked');

    expect(await runPass()).toMatchObject({ scanned: 0, reenqueued: 0, unparked: 2 });
    expect(await states(moved)).toEqual(['waiting', 'unknown', 'unknown']);
    // Its callback kept its shard, and its waiting list with it: the job waits for a hand-over as before.
    expect(await states(stayed)).toEqual(['delayed', 'unknown', 'unknown']);
    expect(await states(lost)).toEqual(['unknown', 'unknown', 'waiting']);

    // The count is recorded: the next pass wakes nothing (a woken job that parked again waits for its hand-over).
    expect(await layout()).toBe('3');
    await queues.all[0].remove(deliveryJobId(moved, 0));
    await jobInShard0(moved, 1);
    expect(await runPass()).toMatchObject({ unparked: 0 });
    expect(await states(moved)).toEqual(['delayed', 'unknown', 'unknown']);
  });

  it('takes an unrecorded count (the upgrade to a release that records it) as unchanged, and records it', async () => {
    await (await queues.all[0].backend.client).del(layoutKey());
    const moved = await notification(1, 'parked');
    await jobInShard0(moved, 1);
    expect(await runPass()).toMatchObject({ unparked: 0 });
    expect(await states(moved)).toEqual(['delayed', 'unknown', 'unknown']);
    expect(await layout()).toBe('3');
  });

  it("finds an overdue notification's job in its callback's former shard and adds no second one in the new shard", async () => {
    await setLayout('3');
    const id = await notification(2, 'overdue');
    await jobInShard0(id, 2);
    expect(await runPass()).toMatchObject({ scanned: 1, reenqueued: 0, retried: 0 });
    expect(await states(id)).toEqual(['delayed', 'unknown', 'unknown']);
  });

  it("removes a callback's jobs from every shard", async () => {
    const id = await notification(1, 'parked');
    await jobInShard0(id, 1);
    expect(await removeDeliveryJobs(queues, [{ notificationId: id, round: 0 }])).toBe(1);
    expect(await states(id)).toEqual(['unknown', 'unknown', 'unknown']);
  });
});
