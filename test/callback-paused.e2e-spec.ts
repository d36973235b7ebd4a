import { TestReceiver } from '@callbacks/testing';
import { ADMIN, type Partner, TestSystem } from './support/system';

/**
 * A callback the partner paused itself (PUT enabled: false) skips its notifications with
 * statusReason callback_paused, at intake and in the worker, and recovery leaves them alone; those
 * skipped while the service had disabled the callback for failing are recovered, as failed ones are.
 */
describe('callback_paused: what the partner paused is not recovered', () => {
  let system: TestSystem;
  let receiver: TestReceiver;

  beforeAll(async () => {
    // The first attempt fails and the retry comes 2 s later: time enough to pause the callback in between.
    system = await TestSystem.start({ RETRY_SCHEDULE: '2s' }, 1);
    receiver = await TestReceiver.start();
  });
  afterAll(async () => {
    await receiver.close();
    await system.close();
  });

  const publish = async (partner: Partner, processUniqueId: string): Promise<string> =>
    (
      await system.http
        .post('/v1/notifications')
        .set(ADMIN)
        .send({ partnerUniqueId: partner.partnerUniqueId, notificationTypeId: 5, payload: { processUniqueId } })
        .expect(202)
    ).body.notificationId as string;
  const setEnabled = (partner: Partner, enabled: boolean) =>
    system.http.put(`/${partner.partnerUniqueId}/callbacks/5`).set(partner.auth).send({ callbackUrl: receiver.url, enabled }).expect(200);

  it('records callback_paused at intake and in the worker, callback_disabled while disabled for failing, and recovers only the latter', async () => {
    const since = new Date(Date.now() - 1_000).toISOString();
    const partner = await system.createPartner();
    await system.registerCallback(partner, 5, receiver.url);

    // In the worker: pending (its first attempt failed) when the partner pauses, skipped at its retry.
    receiver.replyAlways(500);
    const inFlight = await publish(partner, 'PRC-IN-FLIGHT');
    await receiver.waitFor(1);
    await setEnabled(partner, false);
    const skippedByWorker = await system.waitForStatus(partner, inFlight, 'skipped');
    expect(skippedByWorker.statusReason).toBe('callback_paused');

    // At intake, while paused.
    const whilePaused = await publish(partner, 'PRC-PAUSED');
    expect((await system.notification(partner, whilePaused)).statusReason).toBe('callback_paused');

    // While the service had disabled it for failing (as the lifecycle pass does): skipped, callback_disabled.
    await system.dataSource.query(
      `UPDATE callbacks SET enabled = false, disabled_reason = 'failing', disabled_at = now() WHERE partner_id = $1 AND notification_type_id = 5`,
      [partner.partnerUniqueId],
    );
    const whileFailing = await publish(partner, 'PRC-FAILING');
    expect(await system.notification(partner, whileFailing)).toMatchObject({ status: 'skipped', statusReason: 'callback_disabled' });

    receiver.replyAlways(200);
    await setEnabled(partner, true);
    const { body } = await system.http
      .post(`/${partner.partnerUniqueId}/callbacks/5/recover`)
      .set(partner.auth)
      .send({ since })
      .expect(202);
    expect(body).toEqual({ recovering: 1 });
    await system.waitForStatus(partner, whileFailing, 'delivered');
    await system.waitUntilSettled();
    for (const paused of [inFlight, whilePaused])
      expect(await system.notification(partner, paused)).toMatchObject({ status: 'skipped', statusReason: 'callback_paused' });
    expect(
      receiver.requests.filter((request) => request.headers['webhook-id'] !== inFlight).map((request) => request.headers['webhook-id']),
    ).toEqual([whileFailing]);
  });
});
