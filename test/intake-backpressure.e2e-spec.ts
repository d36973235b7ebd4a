import { TestReceiver, waitUntil } from '@callbacks/testing';
import { ADMIN, type Partner, TestSystem } from './support/system';

/**
 * Intake backpressure over HTTP, with the API and a worker running (the API's own in-doubt resolver
 * and the worker's reconciler included). A COMMIT whose answer comes after INTAKE_TIMEOUT_MS is made
 * by a deferred constraint trigger that sleeps 2 s at COMMIT for payloads whose process id starts
 * with "slow-": the request is answered 503, and the commit lands afterwards.
 */
describe('intake backpressure (e2e): a late commit answered 503 is never delivered, unless retried with its key', () => {
  let system: TestSystem;
  let receiver: TestReceiver;
  let partner: Partner;

  beforeAll(async () => {
    system = await TestSystem.start({ INTAKE_TIMEOUT_MS: '700' });
    receiver = await TestReceiver.start();
    partner = await system.createPartner();
    await system.registerCallback(partner, 5, receiver.url);
    await system.dataSource.query(`
      CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.process_unique_id LIKE 'slow-%' THEN PERFORM pg_sleep(2); END IF; RETURN NULL; END $$;
      CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON notifications DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION slow_commit();`);
  });
  afterAll(async () => {
    await receiver.close();
    await system.close();
  });

  const publish = (processUniqueId: string, key?: string) => {
    const call = system.http.post('/v1/notifications').set(ADMIN);
    return (key ? call.set('Idempotency-Key', key) : call).send({
      partnerUniqueId: partner.partnerUniqueId,
      notificationTypeId: 5,
      payload: { processUniqueId },
    });
  };
  const stored = async (processUniqueId: string): Promise<string[]> =>
    (await system.dataSource.query(`SELECT id FROM notifications WHERE process_unique_id = $1`, [processUniqueId])).map(
      (row: { id: string }) => row.id,
    );
  const deliveredProcesses = () =>
    receiver.requests.map((request) => (JSON.parse(request.body) as { data: { processUniqueId: string } }).data.processUniqueId);

  it('answers 503 problem+json with Retry-After at the deadline; the commit that lands later is deleted and never delivered', async () => {
    const response = await publish('slow-e2e-1');
    expect(response.status).toBe(503);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.body).toMatchObject({ status: 503, code: 'intake_timeout' });
    await waitUntil(async () => (await stored('slow-e2e-1')).length > 0 || undefined, 10_000, 'the late commit to land');
    await waitUntil(async () => (await stored('slow-e2e-1')).length === 0 || undefined, 10_000, 'the API to delete it');
    // A control published after the deletion is delivered, and then nothing is pending and every
    // queue is empty: any job made for the late write has run by now, and nothing is left to make one.
    const control = await publish('control-e2e').expect(202);
    await system.waitForStatus(partner, control.body.notificationId, 'delivered');
    await system.waitUntilSettled();
    expect(deliveredProcesses()).not.toContain('slow-e2e-1');
  });

  it('with an Idempotency-Key, the retry is answered 202 and the notification delivered once', async () => {
    expect((await publish('slow-e2e-2', 'e2e-key')).status).toBe(503);
    await waitUntil(async () => (await stored('slow-e2e-2')).length > 0 || undefined, 10_000, 'the late commit to land');
    // Retried as soon as the commit lands: it adopts the committed notification. Should the API's
    // resolver delete it first, the retry writes anew (slowly again: 503), and the next one adopts that.
    let retried = await publish('slow-e2e-2', 'e2e-key');
    for (let tries = 1; retried.status === 503 && tries < 5; tries++) {
      await waitUntil(async () => (await stored('slow-e2e-2')).length > 0 || undefined, 10_000, 'the late commit to land');
      retried = await publish('slow-e2e-2', 'e2e-key');
    }
    expect(retried.status).toBe(202);
    await system.waitForStatus(partner, retried.body.notificationId, 'delivered');
    // Nothing pending and every queue empty: no second delivery can still be on its way.
    await system.waitUntilSettled();
    expect(deliveredProcesses().filter((process) => process === 'slow-e2e-2')).toHaveLength(1);
    expect(await stored('slow-e2e-2')).toEqual([retried.body.notificationId]);
  });
});
