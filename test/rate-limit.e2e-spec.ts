import { TestReceiver, waitUntil } from '@callbacks/testing';
import { BUILT_WORKER, startBuiltApp } from './support/processes';
import { ADMIN, TestSystem } from './support/system';

const RATE = 20;
const NOTIFICATIONS = 100;
/** The most of `times` (sorted) in any window of `windowMs`: (t - windowMs, t], as the guard counts a second. */
function busiestWindow(times: number[], windowMs: number): number {
  let busiest = 0;
  for (let first = 0, last = 0; last < times.length; last++) {
    while (times[last] - times[first] >= windowMs) first++;
    busiest = Math.max(busiest, last - first + 1);
  }
  return busiest;
}

/** A callback's ratePerSecond holds every worker together: at most that many attempts start in any second. */
describe('delivery policy: ratePerSecond across two worker processes', () => {
  const settings = { WORKER_CONCURRENCY: '50', CALLBACK_MAX_IN_FLIGHT: '50', RETRY_SCHEDULE: '1h' };
  let system: TestSystem;
  let workers: Array<ReturnType<typeof startBuiltApp>> = [];

  beforeAll(async () => {
    // Two built workers, each a process of its own as in production; the API runs in the test's process.
    system = await TestSystem.start(settings, 0);
    workers = [0, 1].map(() => startBuiltApp(BUILT_WORKER, { ...system.environment.env, ...settings, LOG_LEVEL: 'info' }));
    await Promise.all(workers.map((worker) => worker.waitForOutput('worker running')));
  }, 120_000);
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop()));
    await system.close();
  });

  it(`sends at most ${RATE} attempts in any one-second window to a callback with ratePerSecond ${RATE}, and all of them`, async () => {
    const receiver = (await TestReceiver.start()).replyAlways(200);
    try {
      const partner = await system.createPartner('Paced');
      await system.http
        .put(`/${partner.partnerUniqueId}/callbacks/5`)
        .set(partner.auth)
        .send({ callbackUrl: receiver.url, delivery: { ratePerSecond: RATE, maxInFlight: 50 } })
        .expect(201);
      const items = Array.from({ length: NOTIFICATIONS }, (_, n) => ({
        partnerUniqueId: partner.partnerUniqueId,
        notificationTypeId: 5,
        payload: { processUniqueId: `p${n}` },
      }));
      await system.http.post('/v1/notifications/batch').set(ADMIN).send({ notifications: items }).expect(202);

      await receiver.waitFor(NOTIFICATIONS, 30_000);
      // Each notification once: pacing neither loses nor repeats one.
      expect(new Set(receiver.requests.map((request) => request.headers['webhook-id'])).size).toBe(NOTIFICATIONS);
      // When each attempt started, as the delivery log records it: the time its start was taken
      // under the rate, just before its request was written. (The receiver's arrival times add each
      // request's own signing and connection time, which a busy machine stretches unevenly.)
      // (An attempt is recorded after its answer: the last few may still be on their way.)
      const recordedStarts = async () =>
        (
          (await system.dataSource.query(
            `SELECT a.at FROM delivery_attempts a JOIN notifications n ON n.id = a.notification_id WHERE n.partner_id = $1 ORDER BY a.at`,
            [partner.partnerUniqueId],
          )) as Array<{ at: Date }>
        ).map((attempt) => attempt.at.getTime());
      const starts = await waitUntil(
        async () => {
          const recorded = await recordedStarts();
          return recorded.length >= NOTIFICATIONS ? recorded : undefined;
        },
        30_000,
        'every attempt recorded',
      );
      expect(starts).toHaveLength(NOTIFICATIONS);
      expect(busiestWindow(starts, 1_000)).toBeLessThanOrEqual(RATE);
      // The first second may take RATE at once; each later RATE waits a second more: 100 span at least 4 s.
      expect(starts[starts.length - 1] - starts[0]).toBeGreaterThanOrEqual(((NOTIFICATIONS - RATE) / RATE) * 1_000);
    } finally {
      await receiver.close();
    }
  });
});
