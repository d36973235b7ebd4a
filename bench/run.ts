/**
 * `npm run bench`: starts everything on this machine (the API and workers as built processes, a
 * receiver in its own process), measures, prints a table and writes bench/results/<date>.json.
 *
 * Phases: the ceiling (bare BullMQ + HTTP, no database); GET /health and intake alone
 * (POST /v1/notifications at 64 concurrent clients, workers stopped, so the notifications pile up);
 * drain with 1 and then 2 workers (deliveries per second once they start, against the ceiling);
 * end to end (64 clients publishing single events, or batches, while one worker drains: first
 * publish to last receipt) with 1 partner and with 20; latency from 202 to receipt at a steady
 * 100/s (20 partners, and one partner alone) and 1,000/s; memory; and isolation (a hanging partner
 * with 500 pending deliveries next to a healthy one). Notifications go round-robin to 20 partners
 * whose callbacks all point at the one receiver, as on a platform with many partners. Every figure
 * is printed beside the ceiling (or /health) measured in the same run, since the machine may be shared.
 * Last, the cluster row: the same drain on a local 3-master Redis Cluster with QUEUE_SHARDS=1 and =3
 * (BENCH_CLUSTER=0 skips it; it needs redis-server and redis-cli).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Pool } from 'undici';
import { checkServices, DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from '@callbacks/config';
import { dropDatabase, migrateDatabase } from '@callbacks/persistence';
import { ChildApp, freePort, LocalRedisCluster } from '@callbacks/testing';

const ROOT = join(__dirname, '..', '..', '..');
const DIST = join(ROOT, 'dist');
const ADMIN_KEY = 'bench-operator-key-0123456789';
const NOTIFICATIONS = Number(process.env.BENCH_NOTIFICATIONS ?? 20_000);
const CONCURRENCY = 50;
const CLIENTS = 64;
const DELIVERY_TIMEOUT_MS = 5_000;
const PROFILE = process.env.BENCH_PROFILE === '1';
/** BENCH_DRAIN_ONLY=1: the ceiling, intake and drain rows only (a quick check of the worker's throughput). */
const DRAIN_ONLY = process.env.BENCH_DRAIN_ONLY === '1';
/** The flags `npm run start:worker` uses (see package.json): a bounded heap for the worker. */
const WORKER_NODE_FLAGS = (process.env.BENCH_WORKER_NODE_FLAGS ?? '--max-old-space-size=128 --max-semi-space-size=8')
  .split(' ')
  .filter(Boolean);
/** Load is spread over this many partners, as on a platform (one callback is capped at CALLBACK_MAX_IN_FLIGHT). */
const PARTNERS = 20;
/** Events per end-to-end phase, and how the batch phase sends them. */
const END_TO_END_EVENTS = Number(process.env.BENCH_END_TO_END_EVENTS ?? 10_000);
const BATCH_SIZE = 100;
const BATCH_CLIENTS = 8;
/** QUEUE_SHARDS values of the cluster row; empty with BENCH_CLUSTER=0. */
const CLUSTER_SHARDS = process.env.BENCH_CLUSTER === '0' ? [] : [1, 3];
const API_MAIN = join(DIST, 'apps/api/apps/api/src/main.js');
const WORKER_MAIN = join(DIST, 'apps/worker/apps/worker/src/main.js');

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summarize(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    count: values.length,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? NaN),
  };
}

/** A built script under node, inheriting this environment; the worker gets its production flags. */
function startNode(name: string, script: string, env: Record<string, string>, nodeFlags: string[] = []): ChildApp {
  const profile = PROFILE && name.startsWith('worker') ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench/results/profiles')}`] : [];
  return ChildApp.start(name, process.execPath, [...nodeFlags, ...profile, script], { ...process.env, ...env });
}

interface Accepted {
  id: string;
  at: number;
}

class Bench {
  private readonly api: Pool;
  readonly receiverUrl: string;

  constructor(apiUrl: string, receiverPort: number) {
    this.api = new Pool(apiUrl, { connections: CLIENTS, pipelining: 1 });
    this.receiverUrl = `http://127.0.0.1:${receiverPort}`;
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

  async partnerWithCallback(name: string, path: string): Promise<string> {
    const partner = await this.call('POST', '/admin/partners', { name });
    const id = partner.json.partnerUniqueId as string;
    const callback = await this.call('PUT', `/${id}/callbacks/5`, { callbackUrl: `${this.receiverUrl}${path}` });
    if (callback.status !== 201) throw new Error(`callback registration failed: ${JSON.stringify(callback.json)}`);
    return id;
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

  /** `count` events in batches of BATCH_SIZE from BATCH_CLIENTS concurrent clients. */
  async publishBatches(partnerIds: string[], count: number): Promise<Accepted[]> {
    const accepted: Accepted[] = [];
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
          const response = await this.call('POST', '/v1/notifications/batch', { notifications });
          if (response.status !== 202) throw new Error(`batch answered ${response.status}: ${JSON.stringify(response.json)}`);
          const at = now();
          for (const result of response.json.results as Array<{ notificationId: string }>) accepted.push({ id: result.notificationId, at });
        }
      }),
    );
    return accepted;
  }

  async publish(partnerIds: string[], n: number): Promise<Accepted> {
    const partnerUniqueId = partnerIds[n % partnerIds.length];
    const response = await this.call('POST', '/v1/notifications', {
      partnerUniqueId,
      notificationTypeId: 5,
      payload: { processUniqueId: `PRC-${n}`, status: 'approved' },
    });
    if (response.status !== 202) throw new Error(`publish answered ${response.status}: ${JSON.stringify(response.json)}`);
    return { id: response.json.notificationId, at: now() };
  }

  /** `count` publishes from CLIENTS concurrent clients, as fast as the API answers. */
  async publishClosedLoop(partnerIds: string[], count: number): Promise<{ accepted: Accepted[]; seconds: number }> {
    const accepted: Accepted[] = [];
    let next = 0;
    const started = now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (next < count) accepted.push(await this.publish(partnerIds, next++));
      }),
    );
    return { accepted, seconds: (now() - started) / 1000 };
  }

  /** Publishes at a steady `perSecond` for `seconds`, each request on its own schedule (open loop). */
  async publishAtRate(partnerIds: string[], perSecond: number, seconds: number): Promise<Accepted[]> {
    const total = perSecond * seconds;
    const started = now();
    const pending: Array<Promise<Accepted>> = [];
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / perSecond;
      const wait = due - now();
      if (wait > 1) await sleep(wait);
      pending.push(this.publish(partnerIds, i));
    }
    return Promise.all(pending);
  }

  async receiverStats(): Promise<{ received: number; unique: number }> {
    const response = await fetch(`${this.receiverUrl}/stats`);
    return (await response.json()) as { received: number; unique: number };
  }

  async receipts(): Promise<Record<string, number>> {
    return (await (await fetch(`${this.receiverUrl}/receipts`)).json()) as Record<string, number>;
  }

  async resetReceiver(): Promise<void> {
    await fetch(`${this.receiverUrl}/reset`, { method: 'POST' });
  }

  /** Deliveries per second from the first receipt to the last (the receiver reset before the run). */
  async drainRate(): Promise<{ seconds: number; perSecond: number }> {
    const receiptTimes = Object.values(await this.receipts()).sort((a, b) => a - b);
    const seconds = (receiptTimes.at(-1)! - receiptTimes[0]) / 1000;
    return { seconds, perSecond: (receiptTimes.length - 1) / seconds };
  }

  async partners(count: number): Promise<string[]> {
    const partners: string[] = [];
    for (let i = 0; i < count; i++) partners.push(await this.partnerWithCallback(`Bench Partner ${i + 1}`, `/ok/partner-${i + 1}`));
    return partners;
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

  latencies(accepted: Accepted[], receipts: Record<string, number>): number[] {
    return accepted.filter(({ id }) => receipts[id] !== undefined).map(({ id, at }) => Math.max(0, receipts[id] - at));
  }

  close(): Promise<void> {
    return this.api.close();
  }
}

async function redisUsedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
}

async function waitForApi(port: number, api: ChildApp): Promise<void> {
  for (let tries = 0; ; tries++) {
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => null);
    if (ready?.ok) return;
    if (tries > 100) throw new Error(`API not ready:\n${api.output.slice(-2_000)}`);
    await sleep(100);
  }
}

interface ClusterDrain {
  shards: number;
  deliveries: number;
  seconds: number;
  perSecond: number;
  ratioToCeiling: number;
  duplicates: number;
}

/**
 * The cluster row: for each QUEUE_SHARDS value, an API and one worker on a fresh local 3-master
 * Redis Cluster queue (new prefix), NOTIFICATIONS published with the worker stopped, then drained.
 */
async function clusterDrain(
  baseEnv: Record<string, string>,
  receiverPort: number,
  ceilingPerSecond: number,
  log: (line: string) => void,
): Promise<ClusterDrain[]> {
  const cluster = await LocalRedisCluster.start(3);
  const rows: ClusterDrain[] = [];
  try {
    for (const shards of CLUSTER_SHARDS) {
      const port = await freePort();
      const env = {
        ...baseEnv,
        PORT: String(port),
        REDIS_CLUSTER_NODES: cluster.nodesVariable,
        QUEUE_SHARDS: String(shards),
        QUEUE_PREFIX: `${baseEnv.QUEUE_PREFIX}c${shards}`,
      };
      const api = startNode(`api-cluster-${shards}`, API_MAIN, env);
      const bench = new Bench(`http://127.0.0.1:${port}`, receiverPort);
      try {
        await waitForApi(port, api);
        const partners = await bench.partners(PARTNERS);
        await bench.resetReceiver();
        log(`cluster: ${NOTIFICATIONS} notifications on 3 masters, QUEUE_SHARDS=${shards}, then one worker drains`);
        await bench.publishClosedLoop(partners, NOTIFICATIONS);
        const worker = startNode(`worker-cluster-${shards}`, WORKER_MAIN, env, WORKER_NODE_FLAGS);
        try {
          await bench.waitForUnique(NOTIFICATIONS, 300_000);
        } finally {
          await worker.stop('SIGTERM', DELIVERY_TIMEOUT_MS + 15_000);
        }
        const { seconds, perSecond } = await bench.drainRate();
        const { received } = await bench.receiverStats();
        rows.push({
          shards,
          deliveries: NOTIFICATIONS,
          seconds,
          perSecond,
          ratioToCeiling: perSecond / ceilingPerSecond,
          duplicates: received - NOTIFICATIONS,
        });
        log(
          `cluster: ${perSecond.toFixed(0)}/s with QUEUE_SHARDS=${shards} (${((perSecond / ceilingPerSecond) * 100).toFixed(0)} % of the ceiling)`,
        );
      } finally {
        await bench.close();
        await api.stop('SIGTERM', DELIVERY_TIMEOUT_MS + 15_000);
      }
    }
  } finally {
    await cluster.stop();
  }
  return rows;
}

async function main(): Promise<void> {
  const databaseBase = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const redisUrl = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  const unreachable = await checkServices({ databaseUrl: databaseBase, redisUrl });
  if (unreachable.length > 0) {
    console.error(unreachable.join('\n'));
    process.exit(1);
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const databaseUrlObject = new URL(databaseBase);
  databaseUrlObject.pathname = `/webhooks_bench_${Date.now()}`;
  const databaseUrl = databaseUrlObject.toString();
  const queuePrefix = `bench${Date.now().toString(36)}`;
  await migrateDatabase(databaseUrl);
  const redis = new Redis(redisUrl);
  const processes: ChildApp[] = [];
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadAverageAtStart: loadavg() },
    settings: {
      notifications: NOTIFICATIONS,
      endToEndEvents: END_TO_END_EVENTS,
      batchSize: BATCH_SIZE,
      batchClients: BATCH_CLIENTS,
      partners: PARTNERS,
      workerConcurrency: CONCURRENCY,
      clients: CLIENTS,
      deliveryTimeoutMs: DELIVERY_TIMEOUT_MS,
    },
  };
  const log = (line: string) => console.log(`bench: ${line}`);
  log(`Node ${process.version}`);

  try {
    const receiver = startNode('receiver', join(DIST, 'bench/bench/receiver.js'), {});
    processes.push(receiver);
    const receiverPort = Number(JSON.parse(await receiver.waitForOutput(/\{"port":\d+\}/)).port);

    /** The bare BullMQ + HTTP rate right now, in a process of its own. */
    const measureCeiling = async (jobs: number): Promise<{ perSecond: number; seconds: number }> => {
      log(`ceiling: bare BullMQ worker, ${jobs} jobs, concurrency ${CONCURRENCY}`);
      const ceilingProc = startNode('ceiling', join(DIST, 'bench/bench/ceiling.js'), {
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: queuePrefix,
        CEILING_JOBS: String(jobs),
        CEILING_URL: `http://127.0.0.1:${receiverPort}/ok/ceiling`,
        WORKER_CONCURRENCY: String(CONCURRENCY),
      });
      const measured = JSON.parse(await ceilingProc.waitForOutput(/\{"deliveries".*\}/, 600_000)) as { perSecond: number; seconds: number };
      log(`ceiling: ${measured.perSecond.toFixed(0)}/s`);
      return measured;
    };
    const ceiling = await measureCeiling(NOTIFICATIONS);
    results.ceiling = ceiling;

    const apiPort = await freePort();
    const env = {
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
    };
    const api = startNode('api', API_MAIN, env);
    processes.push(api);
    const bench = new Bench(`http://127.0.0.1:${apiPort}`, receiverPort);
    await waitForApi(apiPort, api);
    const partners = await bench.partners(PARTNERS);

    const startWorkers = async (count: number): Promise<ChildApp[]> => {
      const workers = Array.from({ length: count }, (_, i) => startNode(`worker${i + 1}`, WORKER_MAIN, env, WORKER_NODE_FLAGS));
      processes.push(...workers);
      return workers;
    };

    const drains: Record<string, unknown> = {};
    for (const workerCount of [1, 2]) {
      await bench.resetReceiver();
      if (workerCount === 1) {
        const perSecond = await bench.healthRate(NOTIFICATIONS);
        results.health = { requests: NOTIFICATIONS, perSecond };
        log(`GET /health: ${perSecond.toFixed(0)}/s from ${CLIENTS} clients`);
      }
      const redisBefore = await redisUsedMemory(redis);
      log(`intake: ${NOTIFICATIONS} notifications from ${CLIENTS} clients (workers stopped)`);
      const intake = await bench.publishClosedLoop(partners, NOTIFICATIONS);
      const redisAfter = await redisUsedMemory(redis);
      if (workerCount === 1) {
        const perSecond = NOTIFICATIONS / intake.seconds;
        results.intake = {
          requests: NOTIFICATIONS,
          seconds: intake.seconds,
          perSecond,
          ratioToHealth: perSecond / (results.health as { perSecond: number }).perSecond,
        };
        results.redisBytesPerPendingNotification = Math.round((redisAfter - redisBefore) / NOTIFICATIONS);
        log(
          `intake: ${(NOTIFICATIONS / intake.seconds).toFixed(0)}/s; Redis ${((redisAfter - redisBefore) / NOTIFICATIONS).toFixed(0)} bytes per pending notification`,
        );
      }
      log(`drain: ${workerCount} worker(s)`);
      const workers = await startWorkers(workerCount);
      let peakRss = 0;
      const sampler = setInterval(() => workers.forEach((worker) => (peakRss = Math.max(peakRss, worker.rssMb()))), 200);
      await bench.waitForUnique(NOTIFICATIONS, 300_000);
      clearInterval(sampler);
      const { seconds, perSecond } = await bench.drainRate();
      const { received } = await bench.receiverStats();
      drains[`workers${workerCount}`] = {
        deliveries: NOTIFICATIONS,
        seconds,
        perSecond,
        ratioToCeiling: perSecond / ceiling.perSecond,
        duplicates: received - NOTIFICATIONS,
        peakWorkerRssMb: Math.round(peakRss),
      };
      log(
        `drain: ${perSecond.toFixed(0)}/s with ${workerCount} worker(s) (${((perSecond / ceiling.perSecond) * 100).toFixed(0)} % of the ceiling), peak worker RSS ${peakRss.toFixed(0)} MB`,
      );
      await Promise.all(workers.map((worker) => worker.stop('SIGTERM', DELIVERY_TIMEOUT_MS + 15_000)));
    }
    results.drain = drains;
    if (DRAIN_ONLY) return;

    // End to end: events arrive while one worker delivers them. From here on, that one worker runs.
    const [worker] = await startWorkers(1);
    await bench.resetReceiver();
    await bench.publish(partners, 0);
    await bench.waitForUnique(1, 60_000);
    const endToEnd: Record<string, unknown> = {};
    const phases: Array<[string, string, () => Promise<Accepted[]>]> = [
      [
        'partners1',
        `single events from ${CLIENTS} clients, 1 partner`,
        async () => (await bench.publishClosedLoop([partners[0]], END_TO_END_EVENTS)).accepted,
      ],
      [
        'partners20',
        `single events from ${CLIENTS} clients, ${PARTNERS} partners`,
        async () => (await bench.publishClosedLoop(partners, END_TO_END_EVENTS)).accepted,
      ],
      [
        'batch',
        `batches of ${BATCH_SIZE} from ${BATCH_CLIENTS} clients, ${PARTNERS} partners`,
        () => bench.publishBatches(partners, END_TO_END_EVENTS),
      ],
    ];
    for (const [key, what, publish] of phases) {
      // On a shared machine the ceiling drifts: each phase is also compared with one measured just before it.
      const nearCeiling = await measureCeiling(END_TO_END_EVENTS);
      await bench.resetReceiver();
      log(`end to end: ${END_TO_END_EVENTS} events, ${what}, 1 worker draining`);
      let peakRss = 0;
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, worker.rssMb())), 200);
      const started = now();
      const accepted = await publish();
      const publishSeconds = (now() - started) / 1000;
      await bench.waitForUnique(END_TO_END_EVENTS, 600_000);
      clearInterval(sampler);
      const receipts = await bench.receipts();
      const lastReceipt = Math.max(...Object.values(receipts));
      const seconds = (lastReceipt - started) / 1000;
      const perSecond = END_TO_END_EVENTS / seconds;
      const { received } = await bench.receiverStats();
      endToEnd[key] = {
        events: END_TO_END_EVENTS,
        seconds,
        perSecond,
        ceilingJustBefore: nearCeiling.perSecond,
        ratioToCeiling: perSecond / nearCeiling.perSecond,
        ratioToRunCeiling: perSecond / ceiling.perSecond,
        intakePerSecond: END_TO_END_EVENTS / publishSeconds,
        latencyMs: summarize(bench.latencies(accepted, receipts)),
        duplicates: received - END_TO_END_EVENTS,
        peakWorkerRssMb: Math.round(peakRss),
      };
      log(
        `end to end, ${what}: ${perSecond.toFixed(0)}/s (${((perSecond / nearCeiling.perSecond) * 100).toFixed(0)} % of the ceiling just before); intake ${(END_TO_END_EVENTS / publishSeconds).toFixed(0)}/s`,
      );
    }
    results.endToEnd = endToEnd;

    log('latency at rest: 100 deliveries, one at a time');
    await bench.resetReceiver();
    const atRest: Accepted[] = [];
    for (let i = 0; i < 100; i++) {
      atRest.push(await bench.publish(partners, i));
      await bench.waitForUnique(i + 1, 10_000);
    }
    const latency: Record<string, unknown> = { atRest: summarize(bench.latencies(atRest, await bench.receipts())) };
    log(`latency at rest: ${JSON.stringify(latency.atRest)} ms`);
    for (const [key, to, perSecond, seconds] of [
      ['at100PerSecond', partners, 100, 10],
      ['onePartnerAt100PerSecond', [partners[0]], 100, 10],
      ['at1000PerSecond', partners, 1000, 5],
    ] as const) {
      await bench.resetReceiver();
      log(`latency: ${perSecond}/s for ${seconds} s to ${to.length} partner(s)`);
      const accepted = await bench.publishAtRate([...to], perSecond, seconds);
      await bench.waitForUnique(accepted.length, 120_000);
      latency[key] = summarize(bench.latencies(accepted, await bench.receipts()));
      log(`latency ${key}: ${JSON.stringify(latency[key])} ms`);
    }
    results.latencyMs = latency;

    log('isolation: a partner whose endpoint hangs, with 500 pending, next to a healthy one at 50/s');
    await bench.resetReceiver();
    const stuck = await bench.partnerWithCallback('Bench Stuck', '/hang/stuck');
    await Promise.all(Array.from({ length: 500 }, (_, i) => bench.publish([stuck], i)));
    await sleep(500);
    const healthy = await bench.publishAtRate([partners[0]], 50, 10);
    await bench.waitForUnique(healthy.length, 120_000);
    const stuckCallback = await bench.call('GET', `/${stuck}/callbacks/5`);
    results.isolation = {
      stuckPending: 500,
      healthyLatencyMs: summarize(bench.latencies(healthy, await bench.receipts())),
      stuckCallbackHealth: stuckCallback.json.health ?? null,
    };
    log(`isolation: healthy partner latency ${JSON.stringify((results.isolation as { healthyLatencyMs: unknown }).healthyLatencyMs)} ms`);

    const workers = processes.filter((proc) => proc.name.startsWith('worker') && proc.running);
    results.memoryMb = { api: Math.round(api.rssMb()), workers: workers.map((running) => Math.round(running.rssMb())) };
    results.machine = { ...(results.machine as object), loadAverageAtEnd: loadavg() };
    await bench.close();

    if (CLUSTER_SHARDS.length > 0) results.clusterDrain = await clusterDrain(env, receiverPort, ceiling.perSecond, log);
  } finally {
    await Promise.all(processes.map((proc) => proc.stop('SIGTERM', DELIVERY_TIMEOUT_MS + 15_000)));
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `{${queuePrefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
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
  const ofCeiling = (perSecond: number, goal?: number) =>
    `${fmt((perSecond / ceiling) * 100)} % of the ceiling ${fmt(ceiling)}/s${goal ? ` (goal ≥ ${goal} %)` : ''}`;
  rows.push(['ceiling (bare BullMQ + HTTP, no DB)', `${fmt(ceiling)}/s`, '']);
  rows.push([`GET /health, ${CLIENTS} clients`, `${fmt(results.health.perSecond)}/s`, '']);
  rows.push([
    `intake alone: POST /v1/notifications, ${CLIENTS} clients`,
    `${fmt(results.intake.perSecond)}/s`,
    `${fmt(results.intake.ratioToHealth * 100)} % of /health ${fmt(results.health.perSecond)}/s (goal ≥ 50 %)`,
  ]);
  for (const [key, drain] of Object.entries<{ perSecond: number; duplicates: number }>(results.drain)) {
    rows.push([
      `drain of ${NOTIFICATIONS.toLocaleString('en')} pending, ${key.replace('workers', '')} worker(s)`,
      `${fmt(drain.perSecond)}/s`,
      `${ofCeiling(drain.perSecond)}; ${drain.duplicates} duplicates`,
    ]);
  }
  const endToEndRows: Array<[string, string, number]> = [
    ['partners1', 'single events, 1 partner', 50],
    ['partners20', `single events, ${PARTNERS} partners`, 50],
    ['batch', `batches of ${BATCH_SIZE}, ${PARTNERS} partners`, 80],
  ];
  for (const [key, what, goal] of endToEndRows) {
    const row = results.endToEnd[key] as { perSecond: number; ceilingJustBefore: number; intakePerSecond: number; duplicates: number };
    rows.push([
      `end to end, ${what} (1 worker)`,
      `${fmt(row.perSecond)}/s`,
      `${fmt((row.perSecond / row.ceilingJustBefore) * 100)} % of the ceiling just before, ${fmt(row.ceilingJustBefore)}/s (goal ≥ ${goal} %); ${ofCeiling(row.perSecond)}; intake ${fmt(row.intakePerSecond)}/s; ${row.duplicates} duplicates`,
    ]);
  }
  const latencyNames: Record<string, string> = {
    atRest: 'at rest (one at a time)',
    at100PerSecond: `at 100/s, ${PARTNERS} partners`,
    onePartnerAt100PerSecond: 'at 100/s, one partner',
    at1000PerSecond: `at 1,000/s, ${PARTNERS} partners`,
  };
  for (const [key, summary] of Object.entries<{ p50: number; p95: number; p99: number }>(results.latencyMs)) {
    rows.push([
      `latency 202 → receipt ${latencyNames[key]}`,
      `p50 ${fmt(summary.p50, 1)} / p95 ${fmt(summary.p95, 1)} / p99 ${fmt(summary.p99, 1)} ms`,
      key === 'onePartnerAt100PerSecond' ? 'goal p99 ≤ 100 ms' : '',
    ]);
  }
  const endToEndRss = Object.values<{ peakWorkerRssMb: number }>(results.endToEnd).map((row) => row.peakWorkerRssMb);
  rows.push([
    'peak worker RSS',
    `${Math.max(results.drain.workers1.peakWorkerRssMb, ...endToEndRss)} MB`,
    `goal < 200 MB (${NOTIFICATIONS.toLocaleString('en')} pending: ${results.drain.workers1.peakWorkerRssMb} MB)`,
  ]);
  rows.push(['RSS at the end', `api ${results.memoryMb.api} MB, workers ${results.memoryMb.workers.join(' / ')} MB`, '']);
  rows.push(['Redis per pending notification', `${results.redisBytesPerPendingNotification} bytes`, '']);
  for (const drain of (results.clusterDrain ?? []) as ClusterDrain[]) {
    rows.push([
      `drain on a 3-master Redis Cluster, QUEUE_SHARDS=${drain.shards}, 1 worker`,
      `${fmt(drain.perSecond)}/s`,
      `${fmt(drain.ratioToCeiling * 100)} % of ceiling; ${drain.duplicates} duplicates`,
    ]);
  }
  rows.push([
    'isolation: healthy p99 beside a hanging partner',
    `${fmt(results.isolation.healthyLatencyMs.p99)} ms`,
    `goal < 500 ms; stuck callback health: ${results.isolation.stuckCallbackHealth}`,
  ]);
  rows.push([
    'machine load (1-minute average) at start / end',
    `${fmt(results.machine.loadAverageAtStart[0], 1)} / ${fmt(results.machine.loadAverageAtEnd[0], 1)}`,
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
