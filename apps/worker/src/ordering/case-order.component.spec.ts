import type { TestingModule } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { DeliveryQueues, deliveryJobId, enqueueDeliveries } from '@callbacks/queue';
import { createTestEnvironment, type TestEnvironment } from '@callbacks/testing';
import { WorkerModule } from '../worker.module';
import { CaseOrder } from './case-order';
import { workerComponent } from '../../test/worker-component';

/**
 * Case ordering's holds and wakes on a real PostgreSQL and Redis, the worker's providers built but
 * not started (no processor): which predecessor a notification waits for, and the reconciler's
 * repair of a lost wake (the predecessor ended, the held one was never woken, or its job was lost).
 */
describe('CaseOrder (component: holds and lost wakes on PostgreSQL and Redis)', () => {
  let environment: TestEnvironment;
  let moduleRef: TestingModule;
  let queues: DeliveryQueues;
  let caseOrder: CaseOrder;
  let runPass: () => Promise<unknown>;
  let db: Pool;
  const partnerId = randomUUID();

  beforeAll(async () => {
    environment = await createTestEnvironment({ RECONCILE_INTERVAL_MS: '3600000' });
    ({ moduleRef, queues, runPass } = await workerComponent(WorkerModule.register(environment.config)));
    caseOrder = moduleRef.get(CaseOrder);
    db = new Pool({ connectionString: environment.databaseUrl, max: 2 });
    await db.query(`INSERT INTO partners (id, name) VALUES ($1, 'Acme')`, [partnerId]);
    await db.query(
      `INSERT INTO callbacks (id, partner_id, notification_type_id, callback_url, signing_secret_encrypted, delivery_ordering)
       VALUES ($1, $2, 5, 'https://acme.example/hook', 'sealed', 'case')`,
      [randomUUID(), partnerId],
    );
  });
  afterAll(async () => {
    await db.end();
    await moduleRef.close();
    await environment.destroy();
  });
  beforeEach(async () => {
    await db.query(`DELETE FROM notifications`);
    await queues.all[0].obliterate({ force: true });
  });

  /** A notification of case `caseId` with its place in the case, due in an hour (not overdue). */
  const notification = async (caseId: string, sequence: number, status = 'pending', round = 0): Promise<string> => {
    const id = randomUUID();
    await db.query(
      `INSERT INTO notifications (id, partner_id, notification_type_id, payload, process_unique_id, status, case_sequence, delivery_round, next_attempt_at)
       VALUES ($1, $2, 5, '{}', $3, $4, $5, $6, now() + interval '1 hour')`,
      [id, partnerId, caseId, status, sequence, round],
    );
    return id;
  };
  const waitingFor = async (id: string) =>
    ((await db.query(`SELECT waiting_for FROM notifications WHERE id = $1`, [id])).rows[0] as { waiting_for: string | null }).waiting_for;
  const jobState = (id: string) => queues.all[0].getJobState(deliveryJobId(id, 0));

  it('holds behind the previous one of the case while it is pending in its first round, and marks the row', async () => {
    const first = await notification('A', 1);
    const second = await notification('A', 2);
    const otherCase = await notification('B', 2);
    expect(await caseOrder.holdFor(first)).toBeNull();
    expect((await caseOrder.holdFor(second))?.waitingFor).toBe(first);
    expect(await waitingFor(second)).toBe(first);
    // No predecessor in its own case (B has no 1): it goes on.
    expect(await caseOrder.holdFor(otherCase)).toBeNull();

    // The predecessor ended: the hold is lifted and the mark cleared.
    await db.query(`UPDATE notifications SET status = 'failed' WHERE id = $1`, [first]);
    expect(await caseOrder.holdFor(second)).toBeNull();
    expect(await waitingFor(second)).toBeNull();
  });

  it('treats redeliveries and recoveries as out of band: a later round neither waits nor is waited for', async () => {
    const first = await notification('C', 1, 'pending', 1);
    const second = await notification('C', 2);
    const third = await notification('C', 3, 'pending', 1);
    expect(await caseOrder.holdFor(second)).toBeNull();
    expect(await caseOrder.holdFor(third)).toBeNull();
    expect(first).toBeDefined();
  });

  it('the reconciler wakes a held notification whose predecessor ended without waking it, once per case', async () => {
    const ended = await notification('D', 1, 'delivered');
    const lost = await notification('D', 2); // held, its job lost with Redis's data
    const behind = await notification('D', 3); // held behind a pending one: stays held
    const delayed = await notification('E', 2); // held, its predecessor failed, its job still delayed
    const endedE = await notification('E', 1, 'failed');
    await db.query(`UPDATE notifications SET waiting_for = $2 WHERE id = $1`, [lost, ended]);
    await db.query(`UPDATE notifications SET waiting_for = $2 WHERE id = $1`, [behind, lost]);
    await db.query(`UPDATE notifications SET waiting_for = $2 WHERE id = $1`, [delayed, endedE]);
    await enqueueDeliveries(queues, [
      { notificationId: behind, partnerId, notificationTypeId: 5, round: 0, test: false, dueAt: new Date(Date.now() + 3_600_000) },
      { notificationId: delayed, partnerId, notificationTypeId: 5, round: 0, test: false, dueAt: new Date(Date.now() + 3_600_000) },
    ]);

    expect(await runPass()).toMatchObject({ woken: 2 });
    expect(await jobState(lost)).toBe('waiting');
    expect(await jobState(delayed)).toBe('waiting');
    expect(await jobState(behind)).toBe('delayed');
  });
});
