import type { ServerResponse } from 'node:http';
import { callbackShard, type ShardSettings } from '@callbacks/queue';
import { listeningPort, TestReceiver, waitUntil } from '@callbacks/testing';
import { BUILT_API, BUILT_WORKER, startBuiltApp } from './support/processes';
import { ADMIN, type Partner, TestSystem } from './support/system';

jest.setTimeout(180_000);

const CAP = 2;
const BACKLOG = 10;
/** How long the endpoint takes to answer 200. */
const LATENCY_MS = 400;

/**
 * QUEUE_SHARDS raised from 1 to 3 while callbacks have parked backlogs, the procedure the README
 * gives: stop every worker and API, start them all with the new value. Parked deliveries wait for a
 * slot handed on through their callback's waiting list, with a park timeout of 5 minutes as the only
 * other way out; a callback that moved to another shard has its waiting list, and its parked jobs,
 * in its former shard. Every notification must still arrive, each once, within a minute, and the
 * in-flight cap hold across the change.
 */
describe('changing QUEUE_SHARDS with parked backlogs', () => {
  it('delivers every parked notification, none waiting for its park timeout, each once, within the in-flight cap', async () => {
    const inFlight = new Map<string, number>();
    const mostInFlight = new Map<string, number>();
    // Answers are held until `release`, so the backlogs stay parked until the worker stops; then each takes LATENCY_MS.
    let held: Array<() => void> | null = [];
    const release = () => {
      const answers = held ?? [];
      held = null;
      answers.forEach((answer) => answer());
    };
    const endpoint = (await TestReceiver.start()).replyAlways((received, response: ServerResponse) => {
      const now = (inFlight.get(received.path) ?? 0) + 1;
      inFlight.set(received.path, now);
      mostInFlight.set(received.path, Math.max(now, mostInFlight.get(received.path) ?? 0));
      const answer = () =>
        setTimeout(() => {
          inFlight.set(received.path, inFlight.get(received.path)! - 1);
          response.writeHead(200).end();
        }, LATENCY_MS);
      if (held) held.push(answer);
      else answer();
    });
    const common = { CALLBACK_MAX_IN_FLIGHT: String(CAP), DELIVERY_TIMEOUT_MS: '5000' };
    // The in-process API is the one with a single shard; the processes are started with the values of each phase.
    const system = await TestSystem.start({ ...common, QUEUE_SHARDS: '1' }, 0);
    const settings = (queueShards: number): ShardSettings => ({ queuePrefix: system.environment.config.queuePrefix, queueShards });
    const before = startBuiltApp(BUILT_WORKER, { ...system.environment.env, ...common, QUEUE_SHARDS: '1', LOG_LEVEL: 'info' });
    const after: Array<ReturnType<typeof startBuiltApp>> = [];
    try {
      await before.waitForOutput('worker running');
      // A callback on each shard of three: the ones on shards 1 and 2 move, the one on shard 0 stays.
      const byShard = new Map<number, Partner>();
      while (byShard.size < 3) {
        const partner = await system.createPartner();
        const shard = callbackShard(settings(3), partner.partnerUniqueId, 5).index;
        if (byShard.has(shard)) continue;
        byShard.set(shard, partner);
        await system.registerCallback(partner, 5, `${endpoint.url}/${partner.partnerUniqueId}`);
      }
      const partners = [...byShard.values()];
      const moving = [...byShard].filter(([shard]) => shard !== 0).map(([, partner]) => partner);
      const ids: string[] = [];
      for (const partner of partners)
        for (let n = 0; n < BACKLOG; n++) {
          const { body } = await system.http
            .post('/v1/notifications')
            .set(ADMIN)
            .send({ partnerUniqueId: partner.partnerUniqueId, notificationTypeId: 5, payload: { processUniqueId: `p${n}` } })
            .expect(202);
          ids.push(body.notificationId);
        }
      const parked = async () =>
        (await system.dataSource.query(
          `SELECT partner_id, count(*)::int AS parked FROM notifications WHERE status = 'pending' AND parked_at IS NOT NULL GROUP BY partner_id`,
        )) as Array<{ partner_id: string; parked: number }>;
      await waitUntil(
        async () => (await parked()).filter((row) => row.parked === BACKLOG - CAP).length === partners.length,
        20_000,
        'a parked backlog behind every callback',
      );
      // Every process stops: the worker finishes what it is sending (released once it has stopped taking
      // jobs) and hands those slots on; the deliveries they go to stay for the next workers.
      const stopping = before.stop();
      await before.waitForOutput('closing');
      release();
      await stopping;
      const stranded = await parked();
      for (const partner of moving)
        expect(stranded.find((row) => row.partner_id === partner.partnerUniqueId)?.parked).toBeGreaterThanOrEqual(BACKLOG - 2 * CAP);

      // … and starts again with QUEUE_SHARDS=3: two workers and an API.
      const env = { ...system.environment.env, ...common, QUEUE_SHARDS: '3', LOG_LEVEL: 'info' };
      after.push(startBuiltApp(BUILT_WORKER, env), startBuiltApp(BUILT_WORKER, env), startBuiltApp(BUILT_API, { ...env, PORT: '0' }));
      await after[0].waitForOutput('worker running', 60_000);
      const running = Date.now();
      const apiUrl = `http://127.0.0.1:${await listeningPort(after[2])}`;
      // New events of a moved callback go to its new shard and wait behind the old backlog; they arrive too.
      for (const partner of moving) {
        const response = await fetch(`${apiUrl}/v1/notifications`, {
          method: 'POST',
          headers: { ...ADMIN, 'content-type': 'application/json' },
          body: JSON.stringify({ partnerUniqueId: partner.partnerUniqueId, notificationTypeId: 5, payload: { processUniqueId: 'late' } }),
        });
        expect(response.status).toBe(202);
        ids.push(((await response.json()) as { notificationId: string }).notificationId);
      }

      // Far within the park timeout (5 minutes): every notification delivered.
      await waitUntil(
        () => ids.every((id) => endpoint.deliveriesOf(id).some((delivery) => delivery.answeredStatus === 200)),
        60_000,
        'every notification to arrive after the change',
      );
      const drainedMs = Date.now() - running;
      await waitUntil(
        async () => {
          const [{ pending }] = (await system.dataSource.query(
            `SELECT count(*)::int AS pending FROM notifications WHERE status <> 'delivered'`,
          )) as Array<{ pending: number }>;
          return pending === 0;
        },
        10_000,
        'every notification recorded delivered',
      );
      for (const id of ids) expect(endpoint.deliveriesOf(id)).toHaveLength(1);
      for (const partner of partners) expect(mostInFlight.get(`/${partner.partnerUniqueId}`)).toBeLessThanOrEqual(CAP);
      // The parked deliveries of the moved callbacks were woken by the reconciler's pass, not by their park timeout.
      const workerOutput = after.map((app) => app.output).join('\n');
      expect(workerOutput).toMatch(/"unparked":[1-9]/);
      process.stdout.write(
        `QUEUE_SHARDS 1 -> 3: ${ids.length} notifications, all delivered ${drainedMs} ms after the first new worker ran\n`,
      );
    } finally {
      await before.stop();
      await Promise.all(after.map((app) => app.stop()));
      await endpoint.close();
      await system.close();
    }
  });
});
