import { TestReceiver } from '@callbacks/testing';
import { BUILT_WORKER, startBuiltApp } from './support/processes';
import { ADMIN, TestSystem } from './support/system';

const RATE = 20;
const NOTIFICATIONS = 100;
/**
 * The guard spaces attempt starts; the receiver sees them after each attempt's own load, signing and
 * connection time, which differ by a few milliseconds from one attempt to the next. A window this
 * much shorter than a second absorbs that difference and nothing more: without the rate, all 100
 * arrive within well under a second.
 */
const ARRIVAL_JITTER_ALLOWANCE_MS = 50;

/** The most arrivals in any window of `windowMs`, from sorted arrival times. */
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
      const arrivals = receiver.requests.map((request) => request.receivedAt).sort((a, b) => a - b);
      expect(busiestWindow(arrivals, 1_000 - ARRIVAL_JITTER_ALLOWANCE_MS)).toBeLessThanOrEqual(RATE);
      // The first second may take RATE at once; each later RATE waits a second more: 100 span at least 4 s.
      expect(arrivals[arrivals.length - 1] - arrivals[0]).toBeGreaterThanOrEqual(
        ((NOTIFICATIONS - RATE) / RATE) * 1_000 - ARRIVAL_JITTER_ALLOWANCE_MS,
      );
      // Each notification once: pacing neither loses nor repeats one.
      expect(new Set(receiver.requests.map((request) => request.headers['webhook-id'])).size).toBe(NOTIFICATIONS);
    } finally {
      await receiver.close();
    }
  });
});
