/**
 * `npm run bench`: starts everything on this machine (the API and workers as built processes, a
 * receiver in its own process), measures, prints a table and writes bench/results/<date>.json.
 *
 * One ceiling per run: a bare BullMQ worker (same concurrency, job options and HTTP sender, no
 * database) delivers BENCH_NOTIFICATIONS jobs, timed at the receiver from the first receipt to the
 * last. Every throughput row delivers the same number of notifications and is timed the same way at
 * the receiver (the end-to-end rows from the first publish, which is stricter), and is divided by
 * that one ceiling. The phases, in order (PHASES below; a new row is one more entry, in a file of its
 * own): GET /health and intake alone (64 clients, workers stopped); the drain of that backlog with
 * 1 and then 2 workers; end to end (publishing while one worker drains) with 1 partner, 20 partners
 * and batches; latency at rest, at 100/s and at 1,000/s; the ceiling once more, as a drift check;
 * isolation (a healthy partner beside 500 deliveries to an endpoint that never answers); and the
 * drain on a local Redis Cluster (BENCH_CLUSTER=0 skips it; it needs redis-server and redis-cli).
 *
 * Latency is measured from the moment the bench sends the publishing request to the moment the
 * receiver has the webhook's headers, with the receiver's clock related to ours by an NTP-style
 * offset; values are never clamped (a negative one would show that offset's error, and is counted).
 * The RSS of every process is sampled throughout, phase by phase.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Pool } from 'undici';
import { dropDatabase, migrateDatabase } from '@callbacks/persistence';
import { ChildApp, freePort, LocalRedisCluster } from '@callbacks/testing';
import { forgedTokensPhase } from './forged-tokens';
import { type ClockOffset, clockOffset, type LatencySummary, now, RssSampler, summarize } from './measures';
import type { ParkedBacklogRow } from './parked-backlog';
import { type OrderingRun, orderingPhase } from './ordering';
import { BENCH_ADMIN_KEY as ADMIN_KEY, benchServices, DIST, ROOT, sleep, waitForApi } from './support';

/** Notifications of every throughput row (drains, end to end, cluster) and of the ceiling they are divided by. */
const JOBS = Number(process.env.BENCH_NOTIFICATIONS ?? 20_000);
const CONCURRENCY = 50;
const CLIENTS = 64;
const DELIVERY_TIMEOUT_MS = 5_000;
const PROFILE = process.env.BENCH_PROFILE === '1';
/** BENCH_DRAIN_ONLY=1: the ceiling, intake and drain rows only (a quick check of the worker's throughput). */
const DRAIN_ONLY = process.env.BENCH_DRAIN_ONLY === '1';
/** BENCH_PHASES=ordering,forgedTokens,…: the ceiling and these phases only (BenchPhase names). */
const ONLY_PHASES =
  process.env.BENCH_PHASES?.split(',')
    .map((name) => name.trim())
    .filter(Boolean) ?? null;
/** The flags `npm run start:worker` uses (see package.json): a bounded heap for the worker. */
const WORKER_NODE_FLAGS = (process.env.BENCH_WORKER_NODE_FLAGS ?? '--max-old-space-size=128 --max-semi-space-size=8')
  .split(' ')
  .filter(Boolean);
/** Load is spread over this many partners, as on a platform (one callback is capped at CALLBACK_MAX_IN_FLIGHT). */
const PARTNERS = 20;
const BATCH_SIZE = 100;
const BATCH_CLIENTS = 8;
/** The apps' default CALLBACK_MAX_IN_FLIGHT: how many deliveries to one callback may hang at once. */
const CALLBACK_MAX_IN_FLIGHT = 10;
/** The isolation window: the healthy partner publishes at this rate for this long. */
const ISOLATION = { stuck: 500, perSecond: 50, seconds: 10 };
/** QUEUE_SHARDS values of the cluster row; empty with BENCH_CLUSTER=0. */
const CLUSTER_SHARDS = process.env.BENCH_CLUSTER === '0' ? [] : [1, 3];
const API_MAIN = join(DIST, 'apps/api/apps/api/src/main.js');
const WORKER_MAIN = join(DIST, 'apps/worker/apps/worker/src/main.js');

/** A built script under node, inheriting this environment; the worker gets its production flags. */
function startNode(name: string, script: string, env: Record<string, string>, nodeFlags: string[] = []): ChildApp {
  const profile = PROFILE && name.startsWith('worker') ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench/results/profiles')}`] : [];
  return ChildApp.start(name, process.execPath, [...nodeFlags, ...profile, script], { ...process.env, ...env });
}

/** A published notification, and when (on the bench's clock) its request was sent. */
interface Sent {
  id: string;
  sentAt: number;
}

/** Deliveries per second between the first and the last receipt, at the receiver. */
interface ReceiptRate {
  deliveries: number;
  seconds: number;
  perSecond: number;
}

class Bench {
  private api!: Pool;
  readonly receiverUrl: string;
  /** The receiver's clock minus ours (see ClockOffset), measured at the start. */
  offset: ClockOffset = { offsetMs: 0, uncertaintyMs: 0 };

  constructor(receiverPort: number) {
    this.receiverUrl = `http://127.0.0.1:${receiverPort}`;
  }

  /** The API this bench talks to, once it listens. */
  useApi(apiUrl: string): void {
    this.api = new Pool(apiUrl, { connections: CLIENTS, pipelining: 1 });
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the API's JSON, read field by field
  async call(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, auth = ADMIN_KEY): Promise<{ status: number; json: any }> {
    const response = await this.api.request({
      method,
      path,
      headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.body.text();
    return { status: response.statusCode, json: text ? JSON.parse(text) : null };
  }

  async partnerWithCallback(name: string, path: string, delivery?: Record<string, unknown>): Promise<string> {
    const partner = await this.call('POST', '/admin/partners', { name });
    const id = partner.json.partnerUniqueId as string;
    const callback = await this.call('PUT', `/${id}/callbacks/5`, { callbackUrl: `${this.receiverUrl}${path}`, delivery });
    if (callback.status !== 201) throw new Error(`callback registration failed: ${JSON.stringify(callback.json)}`);
    return id;
  }

  async partners(count: number): Promise<string[]> {
    const partners: string[] = [];
    for (let i = 0; i < count; i++) partners.push(await this.partnerWithCallback(`Bench Partner ${i + 1}`, `/ok/partner-${i + 1}`));
    return partners;
  }

  /** `count` single GET /health requests from CLIENTS concurrent clients; requests per second. */
  async healthRate(count: number): Promise<number> {
    let next = 0;
    const started = now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (next++ < count) {
          const response = await this.api.request({ method: 'GET', path: '/health' });
          await response.body.text();
          if (response.statusCode !== 200) throw new Error(`/health answered ${response.statusCode}`);
        }
      }),
    );
    return count / ((now() - started) / 1000);
  }

  async publish(partnerIds: string[], n: number): Promise<Sent> {
    const sentAt = now();
    const response = await this.call('POST', '/v1/notifications', {
      partnerUniqueId: partnerIds[n % partnerIds.length],
      notificationTypeId: 5,
      payload: { processUniqueId: `PRC-${n}`, status: 'approved' },
    });
    if (response.status !== 202) throw new Error(`publish answered ${response.status}: ${JSON.stringify(response.json)}`);
    return { id: response.json.notificationId, sentAt };
  }

  /** `count` events in batches of BATCH_SIZE from BATCH_CLIENTS concurrent clients; each event's sentAt is its batch's. */
  async publishBatches(partnerIds: string[], count: number): Promise<Sent[]> {
    const sent: Sent[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: BATCH_CLIENTS }, async () => {
        while (next < count) {
          const first = next;
          next = Math.min(count, next + BATCH_SIZE);
          const notifications = Array.from({ length: next - first }, (_, i) => ({
            partnerUniqueId: partnerIds[(first + i) % partnerIds.length],
            notificationTypeId: 5,
            payload: { processUniqueId: `PRC-B${first + i}`, status: 'approved' },
          }));
          const sentAt = now();
          const response = await this.call('POST', '/v1/notifications/batch', { notifications });
          if (response.status !== 202) throw new Error(`batch answered ${response.status}: ${JSON.stringify(response.json)}`);
          for (const result of response.json.results as Array<{ notificationId: string }>) sent.push({ id: result.notificationId, sentAt });
        }
      }),
    );
    return sent;
  }

  /** `count` publishes from CLIENTS concurrent clients, as fast as the API answers. */
  async publishClosedLoop(partnerIds: string[], count: number): Promise<{ sent: Sent[]; seconds: number }> {
    const sent: Sent[] = [];
    let next = 0;
    const started = now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (next < count) sent.push(await this.publish(partnerIds, next++));
      }),
    );
    return { sent, seconds: (now() - started) / 1000 };
  }

  /** Publishes at a steady `perSecond` for `seconds`, each request on its own schedule (open loop). */
  async publishAtRate(partnerIds: string[], perSecond: number, seconds: number): Promise<Sent[]> {
    const total = perSecond * seconds;
    const started = now();
    const pending: Array<Promise<Sent>> = [];
    for (let i = 0; i < total; i++) {
      const wait = started + (i * 1000) / perSecond - now();
      if (wait > 1) await sleep(wait);
      pending.push(this.publish(partnerIds, i));
    }
    return Promise.all(pending);
  }

  private async receiverGet<T>(path: string): Promise<T> {
    return (await (await fetch(`${this.receiverUrl}${path}`)).json()) as T;
  }

  receiverStats(): Promise<{ received: number; unique: number; hanging: number }> {
    return this.receiverGet('/stats');
  }

  /** Receipt times by webhook-id, on the bench's clock. */
  async receipts(): Promise<Record<string, number>> {
    const raw = await this.receiverGet<Record<string, number>>('/receipts');
    return Object.fromEntries(Object.entries(raw).map(([id, at]) => [id, at - this.offset.offsetMs]));
  }

  async measureClockOffset(): Promise<ClockOffset> {
    return clockOffset(async () => (await this.receiverGet<{ now: number }>('/clock')).now);
  }

  async resetReceiver(): Promise<void> {
    await fetch(`${this.receiverUrl}/reset`, { method: 'POST' });
  }

  /** Ends every request the receiver holds hanging. */
  async releaseHanging(): Promise<void> {
    await fetch(`${this.receiverUrl}/release`, { method: 'POST' });
  }

  /** First receipt to last, at the receiver (reset before the run): how the ceiling and every drain are timed. */
  async receiptRate(): Promise<ReceiptRate> {
    const times = Object.values(await this.receipts()).sort((a, b) => a - b);
    const seconds = (times.at(-1)! - times[0]) / 1000;
    return { deliveries: times.length, seconds, perSecond: (times.length - 1) / seconds };
  }

  async waitForUnique(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { unique } = await this.receiverStats();
      if (unique >= count) return;
      if (Date.now() > deadline) throw new Error(`receiver has ${unique} of ${count} after ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  /** Milliseconds from each request's send to its receipt; negative values stay negative. */
  latencies(sent: Sent[], receipts: Record<string, number>): number[] {
    return sent.filter(({ id }) => receipts[id] !== undefined).map(({ id, sentAt }) => receipts[id] - sentAt);
  }

  close(): Promise<void> {
    return this.api.close();
  }
}

async function redisUsedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
}

/** What a phase gets: the running API, the bench client, the partners, and how to start and stop workers. */
export interface BenchContext {
  bench: Bench;
  partners: string[];
  /** The apps' environment; a phase may start workers with overrides on top. */
  env: Record<string, string>;
  redisUrl: string;
  queuePrefix: string;
  receiverPort: number;
  redis: Redis;
  ceiling: ReceiptRate;
  rss: RssSampler;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the results object, written phase by phase
  results: Record<string, any>;
  log(line: string): void;
  startWorkers(count: number, overrides?: Record<string, string>): ChildApp[];
  /** Workers started by the phase before (the end-to-end worker stays for the latency rows). */
  running: ChildApp[];
  measureCeiling(): Promise<ReceiptRate>;
}

/** One row (or a few) of the bench: runs after the phases before it, writes its figures into ctx.results. */
export interface BenchPhase {
  name: string;
  /** Part of BENCH_DRAIN_ONLY=1's quick run. */
  drainOnly?: boolean;
  run(ctx: BenchContext): Promise<void>;
}

const ratio = (perSecond: number, ctx: BenchContext) => perSecond / ctx.ceiling.perSecond;
const percentOf = (perSecond: number, ctx: BenchContext) => `${(ratio(perSecond, ctx) * 100).toFixed(0)} % of the ceiling`;

async function stopAll(workers: ChildApp[]): Promise<void> {
  await Promise.all(workers.map((worker) => worker.stop('SIGTERM', DELIVERY_TIMEOUT_MS + 15_000)));
}

/** Intake (and /health) with the workers stopped, then the drain of what was published with `workerCount` workers. */
function drainPhase(workerCount: number): BenchPhase {
  return {
    name: `drain${workerCount}`,
    drainOnly: true,
    async run(ctx) {
      const { bench, log } = ctx;
      await stopAll(ctx.running.splice(0));
      await bench.resetReceiver();
      if (workerCount === 1) {
        const perSecond = await bench.healthRate(JOBS);
        ctx.results.health = { requests: JOBS, perSecond };
        log(`GET /health: ${perSecond.toFixed(0)}/s from ${CLIENTS} clients`);
      }
      const redisBefore = await redisUsedMemory(ctx.redis);
      log(`intake: ${JOBS} notifications from ${CLIENTS} clients (workers stopped)`);
      const intake = await bench.publishClosedLoop(ctx.partners, JOBS);
      const redisAfter = await redisUsedMemory(ctx.redis);
      if (workerCount === 1) {
        const perSecond = JOBS / intake.seconds;
        ctx.results.intake = {
          requests: JOBS,
          seconds: intake.seconds,
          perSecond,
          ratioToHealth: perSecond / ctx.results.health.perSecond,
        };
        ctx.results.redisBytesPerPendingNotification = Math.round((redisAfter - redisBefore) / JOBS);
        log(`intake: ${perSecond.toFixed(0)}/s; Redis ${ctx.results.redisBytesPerPendingNotification} bytes per pending notification`);
      }
      log(`drain: ${workerCount} worker(s)`);
      const workers = ctx.startWorkers(workerCount);
      await bench.waitForUnique(JOBS, 300_000);
      const rate = await bench.receiptRate();
      const { received } = await bench.receiverStats();
      ctx.results.drain ??= {};
      ctx.results.drain[`workers${workerCount}`] = {
        ...rate,
        ratioToCeiling: ratio(rate.perSecond, ctx),
        duplicates: received - JOBS,
        peakWorkerRssMb: ctx.rss.peaks[`drain${workerCount}`]?.workerMb ?? null,
      };
      log(`drain: ${rate.perSecond.toFixed(0)}/s with ${workerCount} worker(s) (${percentOf(rate.perSecond, ctx)})`);
      await stopAll(workers);
    },
  };
}

/** End to end: JOBS events published while one worker delivers them, first publish to last receipt. */
function endToEndPhase(key: string, what: string, publish: (ctx: BenchContext) => Promise<Sent[]>): BenchPhase {
  return {
    name: `endToEnd.${key}`,
    async run(ctx) {
      const { bench, log } = ctx;
      if (ctx.running.length === 0) {
        ctx.running.push(...ctx.startWorkers(1));
        await bench.resetReceiver();
        await bench.publish(ctx.partners, 0);
        await bench.waitForUnique(1, 60_000);
      }
      await bench.resetReceiver();
      log(`end to end: ${JOBS} events, ${what}, 1 worker draining`);
      const started = now();
      const sent = await publish(ctx);
      const publishSeconds = (now() - started) / 1000;
      await bench.waitForUnique(JOBS, 600_000);
      const receipts = await bench.receipts();
      const seconds = (Math.max(...Object.values(receipts)) - started) / 1000;
      const perSecond = JOBS / seconds;
      const { received } = await bench.receiverStats();
      ctx.results.endToEnd ??= {};
      ctx.results.endToEnd[key] = {
        events: JOBS,
        seconds,
        perSecond,
        ratioToCeiling: ratio(perSecond, ctx),
        intakePerSecond: JOBS / publishSeconds,
        latencyMs: summarize(bench.latencies(sent, receipts)),
        duplicates: received - JOBS,
        peakWorkerRssMb: ctx.rss.peaks[`endToEnd.${key}`]?.workerMb ?? null,
      };
      log(`end to end, ${what}: ${perSecond.toFixed(0)}/s (${percentOf(perSecond, ctx)}); intake ${(JOBS / publishSeconds).toFixed(0)}/s`);
    },
  };
}

const latencyPhase: BenchPhase = {
  name: 'latency',
  async run(ctx) {
    const { bench, log, partners } = ctx;
    log('latency at rest: 100 deliveries, one at a time');
    await bench.resetReceiver();
    const atRest: Sent[] = [];
    for (let i = 0; i < 100; i++) {
      atRest.push(await bench.publish(partners, i));
      await bench.waitForUnique(i + 1, 10_000);
    }
    const latency: Record<string, LatencySummary> = { atRest: summarize(bench.latencies(atRest, await bench.receipts())) };
    log(`latency at rest: ${JSON.stringify(latency.atRest)} ms`);
    for (const [key, to, perSecond, seconds] of [
      ['at100PerSecond', partners, 100, 10],
      ['onePartnerAt100PerSecond', [partners[0]], 100, 10],
      ['at1000PerSecond', partners, 1000, 5],
    ] as const) {
      await bench.resetReceiver();
      log(`latency: ${perSecond}/s for ${seconds} s to ${to.length} partner(s)`);
      const sent = await bench.publishAtRate([...to], perSecond, seconds);
      await bench.waitForUnique(sent.length, 120_000);
      latency[key] = summarize(bench.latencies(sent, await bench.receipts()));
      log(`latency ${key}: ${JSON.stringify(latency[key])} ms`);
    }
    ctx.results.latencyMs = latency;
  },
};

/** The ceiling measured again after the main rows: how far the machine drifted during the run (no ratio uses it). */
const ceilingDriftPhase: BenchPhase = {
  name: 'ceilingAtEnd',
  async run(ctx) {
    const again = await ctx.measureCeiling();
    ctx.results.ceilingAtEnd = { ...again, ratioToFirst: again.perSecond / ctx.ceiling.perSecond };
  },
};

/**
 * Isolation: 500 notifications to an endpoint that never answers, next to a healthy partner
 * publishing at 50/s for 10 s. The worker's DELIVERY_TIMEOUT_MS is longer than the window, so no
 * hanging attempt ends inside it and the circuit cannot open: the window measures deliveries that
 * hang (CALLBACK_MAX_IN_FLIGHT of them at every moment, sampled at the receiver), not an open circuit.
 */
const isolationPhase: BenchPhase = {
  name: 'isolation',
  async run(ctx) {
    const { bench, log } = ctx;
    await stopAll(ctx.running.splice(0));
    const [worker] = ctx.startWorkers(1, { DELIVERY_TIMEOUT_MS: '50000' });
    try {
      await bench.resetReceiver();
      const stuck = await bench.partnerWithCallback('Bench Stuck', '/hang/stuck');
      log(`isolation: ${ISOLATION.stuck} pending to an endpoint that never answers, a healthy partner at ${ISOLATION.perSecond}/s`);
      await bench.publishClosedLoop([stuck], ISOLATION.stuck);
      for (let tries = 0; (await bench.receiverStats()).hanging < CALLBACK_MAX_IN_FLIGHT; tries++) {
        if (tries > 600) throw new Error('the stuck callback never had CALLBACK_MAX_IN_FLIGHT deliveries hanging');
        await sleep(100);
      }
      const hanging: number[] = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          hanging.push((await bench.receiverStats()).hanging);
          await sleep(100);
        }
      })();
      const windowStarted = now();
      const healthy = await bench.publishAtRate([ctx.partners[0]], ISOLATION.perSecond, ISOLATION.seconds);
      await bench.waitForUnique(healthy.length, 120_000);
      sampling = false;
      await sampler;
      const windowSeconds = (now() - windowStarted) / 1000;
      const stuckCallback = await bench.call('GET', `/${stuck}/callbacks/5`);
      let attemptsEnded = 0;
      for (let cursor: string | null = ''; cursor !== null;) {
        const page = await bench.call('GET', `/${stuck}/notifications?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
        attemptsEnded += (page.json.items as Array<{ attemptCount: number }>).reduce((sum, item) => sum + item.attemptCount, 0);
        cursor = page.json.nextCursor;
      }
      ctx.results.isolation = {
        stuckPending: ISOLATION.stuck,
        windowSeconds,
        hangingDuringWindow: { samples: hanging.length, min: Math.min(...hanging), max: Math.max(...hanging) },
        stuckAttemptsEnded: attemptsEnded,
        stuckCallbackHealth: stuckCallback.json.health ?? null,
        healthyLatencyMs: summarize(bench.latencies(healthy, await bench.receipts())),
      };
      log(`isolation: ${JSON.stringify(ctx.results.isolation)}`);
    } finally {
      await bench.releaseHanging();
      // Its remaining stuck deliveries would hang again: no graceful stop is meant to wait for them.
      await worker.stop('SIGKILL', 5_000);
    }
  },
};

/**
 * The cluster row: for each QUEUE_SHARDS value, an API and one worker on a fresh local 3-master
 * Redis Cluster queue (new prefix), JOBS published with the worker stopped, then drained.
 */
const clusterPhase: BenchPhase = {
  name: 'cluster',
  async run(ctx) {
    const { log } = ctx;
    const cluster = await LocalRedisCluster.start(3);
    ctx.results.clusterDrain = [];
    try {
      for (const shards of CLUSTER_SHARDS) {
        // The apps log at warn here: the API's listening line (info) is not printed, so a port is picked for it.
        const port = await freePort();
        const env = {
          ...ctx.env,
          PORT: String(port),
          REDIS_CLUSTER_NODES: cluster.nodesVariable,
          QUEUE_SHARDS: String(shards),
          QUEUE_PREFIX: `${ctx.env.QUEUE_PREFIX}c${shards}`,
        };
        const api = startNode(`api-cluster-${shards}`, API_MAIN, env);
        const bench = new Bench(ctx.receiverPort);
        bench.offset = ctx.bench.offset;
        try {
          bench.useApi(`http://127.0.0.1:${port}`);
          await waitForApi(port, api, 20_000);
          const partners = await bench.partners(PARTNERS);
          await bench.resetReceiver();
          log(`cluster: ${JOBS} notifications on 3 masters, QUEUE_SHARDS=${shards}, then one worker drains`);
          await bench.publishClosedLoop(partners, JOBS);
          const worker = startNode(`worker-cluster-${shards}`, WORKER_MAIN, env, WORKER_NODE_FLAGS);
          try {
            await bench.waitForUnique(JOBS, 300_000);
          } finally {
            await worker.stop('SIGTERM', DELIVERY_TIMEOUT_MS + 15_000);
          }
          const rate = await bench.receiptRate();
          const { received } = await bench.receiverStats();
          ctx.results.clusterDrain.push({ shards, ...rate, ratioToCeiling: ratio(rate.perSecond, ctx), duplicates: received - JOBS });
          log(`cluster: ${rate.perSecond.toFixed(0)}/s with QUEUE_SHARDS=${shards} (${percentOf(rate.perSecond, ctx)})`);
        } finally {
          await bench.close();
          await api.stop('SIGTERM', DELIVERY_TIMEOUT_MS + 15_000);
        }
      }
    } finally {
      await cluster.stop();
    }
  },
};

/**
 * What a parked backlog costs per delivery (2,000 and 20,000 waiting behind a 2 s endpoint): run as
 * bench/parked-backlog.js, which starts a Redis of its own (INFO commandstats counts every client
 * of a server) and its own apps; BENCH_PARKED=0 skips it.
 */
const parkedBacklogPhase: BenchPhase = {
  name: 'parkedBacklog',
  async run(ctx) {
    ctx.log('parked backlogs: 2,000 and 20,000 behind a 2 s endpoint, two workers (bench/parked-backlog.js)');
    const child = startNode('parked-backlog', join(DIST, 'bench/bench/parked-backlog.js'), {});
    const line = await child.waitForOutput(/\{"parkedBacklog".*\}/, 1_800_000);
    ctx.results.parkedBacklog = (JSON.parse(line) as { parkedBacklog: ParkedBacklogRow[] }).parkedBacklog;
    await child.stop('SIGTERM', 60_000);
    for (const row of ctx.results.parkedBacklog as ParkedBacklogRow[]) ctx.log(`parked backlog of ${row.backlog}: ${JSON.stringify(row)}`);
  },
};

/** The rows, in order. A new row: a BenchPhase in a file of its own under bench/, and one line here. */
const PHASES: BenchPhase[] = [
  drainPhase(1),
  drainPhase(2),
  endToEndPhase(
    'partners1',
    `single events from ${CLIENTS} clients, 1 partner`,
    async (ctx) => (await ctx.bench.publishClosedLoop([ctx.partners[0]], JOBS)).sent,
  ),
  endToEndPhase('partner1MaxInFlight50', `single events from ${CLIENTS} clients, 1 partner with delivery.maxInFlight 50`, async (ctx) => {
    const partner = await ctx.bench.partnerWithCallback('Bench Partner wide', '/ok/wide', { maxInFlight: 50 });
    return (await ctx.bench.publishClosedLoop([partner], JOBS)).sent;
  }),
  endToEndPhase(
    'partners20',
    `single events from ${CLIENTS} clients, ${PARTNERS} partners`,
    async (ctx) => (await ctx.bench.publishClosedLoop(ctx.partners, JOBS)).sent,
  ),
  endToEndPhase('batch', `batches of ${BATCH_SIZE} from ${BATCH_CLIENTS} clients, ${PARTNERS} partners`, (ctx) =>
    ctx.bench.publishBatches(ctx.partners, JOBS),
  ),
  latencyPhase,
  ceilingDriftPhase,
  isolationPhase,
  ...(process.env.BENCH_PARKED === '0' ? [] : [parkedBacklogPhase]),
  orderingPhase,
  forgedTokensPhase,
  ...(CLUSTER_SHARDS.length > 0 ? [clusterPhase] : []),
];

async function main(): Promise<void> {
  const { databaseUrl, redisUrl } = await benchServices('webhooks_bench');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const queuePrefix = `bench${Date.now().toString(36)}`;
  await migrateDatabase(databaseUrl);
  const redis = new Redis(redisUrl);
  const processes: ChildApp[] = [];
  const rss = new RssSampler(() => processes);
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadAverageAtStart: loadavg() },
    settings: {
      jobsPerThroughputRow: JOBS,
      batchSize: BATCH_SIZE,
      batchClients: BATCH_CLIENTS,
      partners: PARTNERS,
      workerConcurrency: CONCURRENCY,
      clients: CLIENTS,
      deliveryTimeoutMs: DELIVERY_TIMEOUT_MS,
      latency: 'from the send of the publishing request to the receiver having the webhook headers; negative values kept',
      throughput: 'first receipt to last at the receiver (end to end: first publish to last receipt), divided by this run’s one ceiling',
    },
  };
  const log = (line: string) => console.log(`bench: ${line}`);
  log(`Node ${process.version}`);

  try {
    const receiver = startNode('receiver', join(DIST, 'bench/bench/receiver.js'), {});
    processes.push(receiver);
    const receiverPort = Number(JSON.parse(await receiver.waitForOutput(/\{"port":\d+\}/)).port);
    // The apps log at warn (a request log line costs CPU the bench would measure): the API's listening
    // line is not printed, so its port is picked here, outside the ephemeral range (see freePort).
    const apiPort = await freePort();
    const env: Record<string, string> = {
      NODE_ENV: 'development',
      PORT: String(apiPort),
      WORKER_PORT: '0',
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: queuePrefix,
      ADMIN_API_KEY: ADMIN_KEY,
      ALLOW_INSECURE_CALLBACKS: 'true',
      LOG_LEVEL: 'warn',
      WORKER_CONCURRENCY: String(CONCURRENCY),
      DELIVERY_TIMEOUT_MS: String(DELIVERY_TIMEOUT_MS),
      RETRY_SCHEDULE: '1s,5s,30s',
      RECONCILE_INTERVAL_MS: '60000',
      // The forged-tokens row sends each forged token from its own X-Forwarded-For address (a spread-out attack).
      TRUST_PROXY: 'loopback',
    };
    const bench = new Bench(receiverPort);
    bench.offset = await bench.measureClockOffset();
    log(`receiver clock offset ${bench.offset.offsetMs.toFixed(3)} ms ± ${bench.offset.uncertaintyMs.toFixed(3)} ms`);

    /** The bare BullMQ + HTTP rate, in a process of its own, timed at the receiver like every drain. */
    const measureCeiling = async (): Promise<ReceiptRate> => {
      log(`ceiling: bare BullMQ worker, ${JOBS} jobs, concurrency ${CONCURRENCY}`);
      await bench.resetReceiver();
      const ceilingProc = startNode('ceiling', join(DIST, 'bench/bench/ceiling.js'), {
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: queuePrefix,
        CEILING_JOBS: String(JOBS),
        CEILING_URL: `${bench.receiverUrl}/ok/ceiling`,
        WORKER_CONCURRENCY: String(CONCURRENCY),
      });
      await ceilingProc.waitForOutput(/\{"deliveries".*\}/, 600_000);
      const rate = await bench.receiptRate();
      if (rate.deliveries !== JOBS) throw new Error(`the ceiling delivered ${rate.deliveries} of ${JOBS}`);
      log(`ceiling: ${rate.perSecond.toFixed(0)}/s`);
      return rate;
    };
    rss.phase('ceiling');
    const ceiling = await measureCeiling();
    results.ceiling = ceiling;
    rss.phase('setup');

    const api = startNode('api', API_MAIN, env);
    processes.push(api);
    bench.useApi(`http://127.0.0.1:${apiPort}`);
    await waitForApi(apiPort, api, 20_000);
    const ctx: BenchContext = {
      bench,
      partners: await bench.partners(PARTNERS),
      env,
      redisUrl,
      queuePrefix,
      receiverPort,
      redis,
      ceiling,
      rss,
      results,
      log,
      running: [],
      measureCeiling,
      startWorkers: (count, overrides = {}) => {
        const workers = Array.from({ length: count }, (_, i) =>
          startNode(`worker${i + 1}`, WORKER_MAIN, { ...env, ...overrides }, WORKER_NODE_FLAGS),
        );
        processes.push(...workers);
        return workers;
      },
    };
    for (const phase of PHASES.filter(
      (candidate) => (!DRAIN_ONLY || candidate.drainOnly) && (!ONLY_PHASES || ONLY_PHASES.includes(candidate.name)),
    )) {
      rss.phase(phase.name);
      await phase.run(ctx);
    }
    rss.stop();
    const offsetAtEnd = await bench.measureClockOffset();
    results.clock = { offsetAtStart: bench.offset, offsetAtEnd };
    results.rssMbByPhase = rss.peaks;
    results.peakWorkerRssMb = rss.peakWorker();
    results.machine = { ...(results.machine as object), loadAverageAtEnd: loadavg() };
    await bench.close();
  } finally {
    rss.stop();
    await Promise.all(processes.map((proc) => proc.stop('SIGTERM', DELIVERY_TIMEOUT_MS + 15_000)));
    for (const pattern of [`{${queuePrefix}*`, `${queuePrefix}*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        if (keys.length > 0) await redis.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
    redis.disconnect();
    await dropDatabase(databaseUrl);
  }

  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const file = join(ROOT, 'bench/results', `${stamp}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  printTable(results);
  console.log(`\nbench: results written to ${file}`);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the results object built above
function printTable(results: Record<string, any>): void {
  const rows: Array<[string, string, string]> = [];
  const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
  const ceiling = results.ceiling.perSecond as number;
  const ofCeiling = (perSecond: number, goal?: number) => `${fmt(perSecond / ceiling, 2)} of the ceiling${goal ? ` (goal ≥ ${goal})` : ''}`;
  rows.push([`ceiling (bare BullMQ + HTTP, no DB), ${JOBS.toLocaleString('en')} jobs, first to last receipt`, `${fmt(ceiling)}/s`, '']);
  if (results.ceilingAtEnd)
    rows.push([
      'ceiling again after the latency rows (drift only)',
      `${fmt(results.ceilingAtEnd.perSecond)}/s`,
      `${fmt(results.ceilingAtEnd.ratioToFirst, 2)} of the first`,
    ]);
  // A run of some phases only (BENCH_PHASES) has no health, intake or drain rows.
  if (results.health) rows.push([`GET /health, ${CLIENTS} clients`, `${fmt(results.health.perSecond)}/s`, '']);
  if (results.intake)
    rows.push([
      `intake alone: POST /v1/notifications, ${CLIENTS} clients`,
      `${fmt(results.intake.perSecond)}/s`,
      `${fmt(results.intake.ratioToHealth, 2)} of /health (goal ≥ 0.5)`,
    ]);
  for (const [key, drain] of Object.entries<{ perSecond: number; duplicates: number }>(results.drain ?? {})) {
    rows.push([
      `drain of ${JOBS.toLocaleString('en')} pending, ${key.replace('workers', '')} worker(s)`,
      `${fmt(drain.perSecond)}/s`,
      `${ofCeiling(drain.perSecond)}; ${drain.duplicates} duplicates`,
    ]);
  }
  const endToEndRows: Array<[string, string, number]> = [
    ['partners1', 'single events, 1 partner', 0.5],
    ['partner1MaxInFlight50', 'single events, 1 partner with maxInFlight 50', 0.5],
    ['partners20', `single events, ${PARTNERS} partners`, 0.5],
    ['batch', `batches of ${BATCH_SIZE}, ${PARTNERS} partners`, 0.8],
  ];
  for (const [key, what, goal] of endToEndRows) {
    const row = results.endToEnd?.[key] as { perSecond: number; intakePerSecond: number; duplicates: number; latencyMs: LatencySummary };
    if (!row) continue;
    rows.push([
      `end to end, ${what} (1 worker), first publish to last receipt`,
      `${fmt(row.perSecond)}/s`,
      `${ofCeiling(row.perSecond, goal)}; intake ${fmt(row.intakePerSecond)}/s; ${row.duplicates} duplicates; send → receipt p50 ${fmt(row.latencyMs.p50)} ms`,
    ]);
  }
  const latencyNames: Record<string, string> = {
    atRest: 'at rest (one at a time)',
    at100PerSecond: `at 100/s, ${PARTNERS} partners`,
    onePartnerAt100PerSecond: 'at 100/s, one partner',
    at1000PerSecond: `at 1,000/s, ${PARTNERS} partners`,
  };
  for (const [key, summary] of Object.entries<LatencySummary>(results.latencyMs ?? {})) {
    rows.push([
      `latency, publish sent → webhook received, ${latencyNames[key]}`,
      `p50 ${fmt(summary.p50, 1)} / p95 ${fmt(summary.p95, 1)} / p99 ${fmt(summary.p99, 1)} ms`,
      `min ${fmt(summary.min, 1)} ms, ${summary.negative} negative${key === 'onePartnerAt100PerSecond' ? '; goal p99 ≤ 100 ms' : ''}`,
    ]);
  }
  const ordering = results.ordering as { unordered: OrderingRun; ordered: OrderingRun; throughputRatio: number } | undefined;
  if (ordering) {
    for (const run of [ordering.unordered, ordering.ordered])
      rows.push([
        `${run.notifications.toLocaleString('en')} over ${run.cases} cases, 10 % random 500s, 2 workers, one SIGKILLed; ordering ${run.ordering}`,
        `${fmt(run.perSecond)}/s`,
        `${run.inversions} inversions (${run.casesWithInversions} cases); ${run.duplicates} duplicates${run.ordering === 'case' ? `; ${fmt(ordering.throughputRatio, 2)} of unordered (goal ≥ 0.7, 0 inversions)` : ''}`,
      ]);
  }
  rows.push([
    'peak worker RSS, every phase sampled',
    `${results.peakWorkerRssMb.mb} MB`,
    `goal < 200 MB; in ${results.peakWorkerRssMb.phase}; ${Object.entries<{ workerMb: number }>(results.rssMbByPhase)
      .filter(([, peaks]) => peaks.workerMb > 0)
      .map(([phase, peaks]) => `${phase} ${peaks.workerMb}`)
      .join(', ')}`,
  ]);
  if (results.redisBytesPerPendingNotification !== undefined)
    rows.push(['Redis per pending notification', `${results.redisBytesPerPendingNotification} bytes`, '']);
  for (const drain of (results.clusterDrain ?? []) as Array<{ shards: number; perSecond: number; duplicates: number }>) {
    rows.push([
      `drain on a 3-master Redis Cluster, QUEUE_SHARDS=${drain.shards}, 1 worker`,
      `${fmt(drain.perSecond)}/s`,
      `${ofCeiling(drain.perSecond)}; ${drain.duplicates} duplicates`,
    ]);
  }
  if (results.forgedTokens) {
    const forged = results.forgedTokens;
    rows.push([
      `forged bearer tokens, ${forged.connections} connections for ${forged.seconds} s: scans of the credential tables they caused`,
      `${forged.credentialTableScans.causedByForged}`,
      `goal 0, plus the once-a-minute read of old-format keys' hashes; ${fmt(forged.forgedPerSecond)} forged requests/s (${JSON.stringify(forged.forgedStatuses)}); idle window ${forged.credentialTableScans.idleWindow}, forged window ${forged.credentialTableScans.forgedWindow}`,
    ]);
    rows.push([
      `  the same windows: database transactions (the worker's passes and autovacuum's visits count too)`,
      `${forged.databaseTransactions.causedByForged}`,
      `idle window ${forged.databaseTransactions.idleWindow}, forged window ${forged.databaseTransactions.forgedWindow}`,
    ]);
    rows.push([
      `one partner at 100/s: p99 under the attack / alone`,
      `${fmt(forged.partnerLatencyMs.underAttack.p99, 1)} / ${fmt(forged.partnerLatencyMs.alone.p99, 1)} ms`,
      `${fmt(forged.p99Ratio, 2)}× (goal ≤ 2)`,
    ]);
  }
  if (results.isolation) {
    const isolation = results.isolation;
    rows.push([
      `isolation: healthy partner's p99 (publish sent → received) beside ${isolation.stuckPending} hanging`,
      `${fmt(isolation.healthyLatencyMs.p99, 1)} ms`,
      `goal < 500 ms; hanging at the receiver during the window ${isolation.hangingDuringWindow.min}–${isolation.hangingDuringWindow.max}; stuck attempts ended ${isolation.stuckAttemptsEnded}; circuit ${isolation.stuckCallbackHealth}`,
    ]);
  }
  for (const row of (results.parkedBacklog ?? []) as ParkedBacklogRow[]) {
    rows.push([
      `parked backlog of ${row.backlog.toLocaleString('en')} behind a 2 s endpoint (cap 10, 2 workers), per delivery sent`,
      `${fmt(row.redisCommandsPerDelivery, 1)} Redis commands, ${fmt(row.rowWritesPerDelivery, 2)} row writes`,
      `${fmt(row.perSecond, 2)} deliveries/s over ${fmt(row.seconds)} s; the same at any backlog`,
    ]);
  }
  rows.push([
    'machine load (1-minute average) at start / end',
    `${fmt(results.machine.loadAverageAtStart[0], 1)} / ${fmt(results.machine.loadAverageAtEnd?.[0], 1)}`,
    `${results.machine.cpus} CPUs`,
  ]);
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column].length)));
  console.log('');
  for (const row of rows) console.log(row.map((cell, column) => cell.padEnd(widths[column])).join('  │  '));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
