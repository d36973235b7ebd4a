/**
 * The ordering row: 10,000 notifications over 500 cases to one callback whose endpoint answers 500
 * to 10 % of requests at random, published while two workers drain them, one worker SIGKILLed once
 * half have arrived. Run twice, unordered and with delivery.ordering "case" (maxInFlight 100 both):
 * every notification must arrive; per case, the successful arrivals are checked against the order
 * of acceptance (an inversion: an arrival older than one already received for its case); the
 * throughput of the ordered run is divided by the unordered one's (goal ≥ 0.7).
 */
import { now } from './measures';
import type { BenchContext, BenchPhase } from './run';
import { sleep } from './support';

const NOTIFICATIONS = 10_000;
const CASES = 500;
const MAX_IN_FLIGHT = 100;
/** Fast retries, a short lock (a SIGKILLed worker's deliveries are taken over after it) and frequent reconciling. */
const WORKER_OVERRIDES = {
  RETRY_SCHEDULE: Array.from({ length: 12 }, () => '200ms').join(','),
  DELIVERY_LOCK_MS: '10000',
  RECONCILE_INTERVAL_MS: '2000',
  CIRCUIT_FAILURE_THRESHOLD: '1000',
};

export interface OrderingRun {
  ordering: 'none' | 'case';
  notifications: number;
  cases: number;
  seconds: number;
  perSecond: number;
  /** Successful arrivals older (by acceptance within their case) than one already received for the case. */
  inversions: number;
  /** Cases with at least one inversion. */
  casesWithInversions: number;
  /** Successful arrivals beyond one per notification (at-least-once after the SIGKILL). */
  duplicates: number;
  /** Ordered run: arrivals whose envelope sequence is not its acceptance position in the case. */
  wrongSequences: number;
  /** Successful deliveries when the worker was killed. */
  killedAt: number;
}

async function receiverGet<T>(ctx: BenchContext, path: string): Promise<T> {
  return (await (await fetch(`${ctx.bench.receiverUrl}${path}`)).json()) as T;
}

async function runOnce(ctx: BenchContext, ordering: 'none' | 'case'): Promise<OrderingRun> {
  const { bench, log } = ctx;
  const partner = await bench.call('POST', '/admin/partners', { name: `Bench ordering ${ordering}` });
  const partnerId = partner.json.partnerUniqueId as string;
  const callback = await bench.call('PUT', `/${partnerId}/callbacks/5`, {
    callbackUrl: `${bench.receiverUrl}/flaky/${ordering}`,
    delivery: { ordering, maxInFlight: MAX_IN_FLIGHT },
  });
  if (callback.status !== 201) throw new Error(`callback registration failed: ${JSON.stringify(callback.json)}`);
  const workers = ctx.startWorkers(2, WORKER_OVERRIDES);
  // Warm up: both workers take jobs before the clock starts.
  await bench.resetReceiver();
  await Promise.all(Array.from({ length: 20 }, (_, n) => bench.publish([ctx.partners[0]], n)));
  await bench.waitForUnique(20, 60_000);
  await bench.resetReceiver();

  log(`ordering ${ordering}: ${NOTIFICATIONS} notifications over ${CASES} cases, 10 % random 500s, 2 workers, one SIGKILLed midway`);
  const started = now();
  let killedAt = -1;
  const killer = (async () => {
    for (;;) {
      const { unique } = await bench.receiverStats();
      if (unique >= NOTIFICATIONS / 2) {
        workers[0].kill('SIGKILL');
        killedAt = unique;
        return;
      }
      await sleep(50);
    }
  })();
  // In waves of one per case: within a case, each publish is accepted before the next is sent.
  for (let n = 0; n < NOTIFICATIONS / CASES; n++) {
    const responses = await Promise.all(
      Array.from({ length: CASES }, (_, c) =>
        bench.call('POST', '/v1/notifications', {
          partnerUniqueId: partnerId,
          notificationTypeId: 5,
          payload: { processUniqueId: `ORD-${ordering}-${c}`, n, status: 'approved' },
        }),
      ),
    );
    const refused = responses.find((response) => response.status !== 202);
    if (refused) throw new Error(`publish answered ${refused.status}: ${JSON.stringify(refused.json)}`);
  }
  await killer;
  log(`ordering ${ordering}: published; worker1 SIGKILLed after ${killedAt} deliveries`);
  await bench.waitForUnique(NOTIFICATIONS, 900_000);
  const receipts = await bench.receipts();
  const seconds = (Math.max(...Object.values(receipts)) - started) / 1000;
  const arrivals = await receiverGet<Array<[string, number, number | null]>>(ctx, '/arrivals');
  const latest = new Map<string, number>();
  const inverted = new Set<string>();
  let inversions = 0;
  let wrongSequences = 0;
  for (const [caseId, n, sequence] of arrivals) {
    if (n < (latest.get(caseId) ?? -1)) {
      inversions++;
      inverted.add(caseId);
    }
    latest.set(caseId, Math.max(n, latest.get(caseId) ?? -1));
    if (ordering === 'case' && sequence !== n + 1) wrongSequences++;
  }
  await Promise.all(workers.map((worker) => worker.stop('SIGTERM', 30_000)));
  return {
    ordering,
    notifications: NOTIFICATIONS,
    cases: CASES,
    seconds,
    perSecond: NOTIFICATIONS / seconds,
    inversions,
    casesWithInversions: inverted.size,
    duplicates: arrivals.length - NOTIFICATIONS,
    wrongSequences,
    killedAt,
  };
}

export const orderingPhase: BenchPhase = {
  name: 'ordering',
  async run(ctx) {
    await Promise.all(ctx.running.splice(0).map((worker) => worker.stop('SIGTERM', 30_000)));
    const unordered = await runOnce(ctx, 'none');
    ctx.log(
      `ordering none: ${unordered.perSecond.toFixed(0)}/s; ${unordered.inversions} inversions in ${unordered.casesWithInversions} cases; ${unordered.duplicates} duplicates`,
    );
    const ordered = await runOnce(ctx, 'case');
    ctx.log(
      `ordering case: ${ordered.perSecond.toFixed(0)}/s; ${ordered.inversions} inversions; ${ordered.wrongSequences} wrong sequences; ${ordered.duplicates} duplicates`,
    );
    ctx.results.ordering = { unordered, ordered, throughputRatio: ordered.perSecond / unordered.perSecond };
    ctx.log(`ordering: ordered / unordered throughput ${(ordered.perSecond / unordered.perSecond).toFixed(2)} (goal ≥ 0.7)`);
  },
};
