/**
 * `npm run test:faults`: the built API and two workers as real processes, a Redis of its own (so it
 * can be killed and restarted empty), PostgreSQL behind a TCP proxy (so it can be cut), and local
 * receivers. Each fault prints "delivered N of N, duplicates D, lost L"; the run ends with
 * "N passed, N failed" and a non-zero exit when anything was lost or misbehaved.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { checkServices, DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from '@callbacks/config';
import { dropDatabase, migrateDatabase } from '@callbacks/persistence';
import {
  ChildApp,
  freePort,
  listeningPort,
  redisCommandCalls,
  redisInfo,
  streamLargeBody,
  TcpProxy,
  TestReceiver,
  waitUntil,
} from '@callbacks/testing';

// Compiled to dist/faults/test/faults/run.js.
/**
 * The API's peak RSS while PostgreSQL stalls under 300 requests/s. What it holds is bounded by the
 * requests in flight (about 300/s × INTAKE_TIMEOUT_MS, 5 s: 1,500) and the group-commit queue's own
 * bounds (INTAKE_QUEUE_MAX, INTAKE_QUEUE_MAX_BYTES), not by the stall's length: 430 MB was measured
 * on a quiet 2-core machine (150 MB before the stall).
 */
const STALL_RSS_BOUND_MB = 512;

const ROOT = join(__dirname, '..', '..', '..', '..');
const ADMIN_KEY = `faults-operator-${randomBytes(8).toString('hex')}`;
const DELIVERY_TIMEOUT_MS = 3_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface FaultResult {
  name: string;
  ok: boolean;
  line: string;
}

async function main(): Promise<void> {
  const baseDatabaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const unreachable = await checkServices({ databaseUrl: baseDatabaseUrl, redisUrl: process.env.REDIS_URL ?? DEFAULT_REDIS_URL });
  if (unreachable.length > 0) {
    console.error(unreachable.join('\n'));
    process.exit(1);
  }
  const dbName = `webhooks_faults_${Date.now()}`;
  const direct = new URL(baseDatabaseUrl);
  direct.pathname = `/${dbName}`;
  await migrateDatabase(direct.toString());
  // PostgreSQL behind a proxy that can cut it.
  const proxy = await TcpProxy.start(Number(direct.port || 5432));
  const viaProxy = new URL(direct.toString());
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);

  const redisPort = await freePort();
  /** A Redis of this run's own, without persistence: killing it loses everything, as the fault wants. */
  const startRedis = async (): Promise<ChildApp> => {
    const started = ChildApp.start(
      'redis',
      'redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      process.env,
    );
    await waitUntil(
      async () => (await checkServices({ databaseUrl: direct.toString(), redisUrl: `redis://127.0.0.1:${redisPort}` })).length === 0,
      10_000,
      'Redis to accept connections',
    );
    return started;
  };
  let redis = await startRedis();

  const env = {
    NODE_ENV: 'development',
    PORT: '0',
    WORKER_PORT: '0',
    DATABASE_URL: viaProxy.toString(),
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    QUEUE_PREFIX: 'faults',
    ADMIN_API_KEY: ADMIN_KEY,
    SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ALLOW_INSECURE_CALLBACKS: 'true',
    LOG_LEVEL: 'info',
    DELIVERY_TIMEOUT_MS: String(DELIVERY_TIMEOUT_MS),
    RETRY_SCHEDULE: Array.from({ length: 12 }, () => '1s').join(','),
    RECONCILE_INTERVAL_MS: '2000',
    WORKER_CONCURRENCY: '50',
    // Below the 100 delivery slots of the two workers, so one slow partner cannot hold them all.
    CALLBACK_MAX_IN_FLIGHT: '20',
    // These faults are about Redis, PostgreSQL and workers; the circuit breaker has its own tests.
    CIRCUIT_FAILURE_THRESHOLD: '1000',
    PARTNER_RATE_LIMIT_PER_MINUTE: '100000',
    ECHO_RATE_LIMIT_PER_MINUTE: '100000',
  };
  const node = process.execPath;
  console.log(`fault: the apps run on Node ${process.version} (${node})`);
  const workerEntry = join(ROOT, 'dist/apps/worker/apps/worker/src/main.js');
  const workerArgs = ['--max-old-space-size=128', '--max-semi-space-size=8', workerEntry];
  const startNode = (name: string, args: string[], overrides: Record<string, string> = {}) =>
    ChildApp.start(name, node, args, { ...process.env, ...env, ...overrides });
  /** Replaces both workers (graceful stop, then start) with `overrides` on top of the run's environment. */
  const retired: ChildApp[] = [];
  const restartWorkers = async (overrides: Record<string, string> = {}) => {
    await Promise.all(workers.map((worker) => worker.stop()));
    retired.push(...workers);
    for (let i = 0; i < workers.length; i++) workers[i] = startNode(`worker-${i + 1}`, workerArgs, overrides);
    await waitUntil(async () => workers.every((worker) => worker.output.includes('worker running')), 30_000, 'the workers to restart');
  };
  const api = startNode('api', [join(ROOT, 'dist/apps/api/apps/api/src/main.js')]);
  const workers = [startNode('worker-1', workerArgs), startNode('worker-2', workerArgs)];
  const everyProcess = () => [api, ...workers, ...retired];
  const receiver = await TestReceiver.start();
  /**
   * Keeps deliveries pending during a fault: 503, except every 100th request, whose success resets the
   * callback's consecutive failures so the circuit stays closed (attempts due while it is open would
   * be recorded as circuit_open and use up the schedule, which is not what these faults are about).
   */
  let refusals = 0;
  const mostly503 = (_request: unknown, response: import('node:http').ServerResponse) =>
    void response.writeHead(++refusals % 100 === 0 ? 200 : 503).end();
  const secrets: string[] = [ADMIN_KEY];
  const results: FaultResult[] = [];
  const base = `http://127.0.0.1:${await listeningPort(api, 120_000)}`;

  const call = async (method: string, path: string, body?: unknown, key = ADMIN_KEY) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, type: response.headers.get('content-type') ?? '', json: text ? JSON.parse(text) : null };
  };
  const db = new Client({ connectionString: direct.toString() });
  await db.connect();
  const statusCounts = async (partnerId: string): Promise<Record<string, number>> => {
    const { rows } = await db.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM notifications WHERE partner_id = $1 GROUP BY status',
      [partnerId],
    );
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  };
  const partnerKeys = new Map<string, string>();
  const newPartner = async (name: string, path: string, callbackUrl = `${receiver.url}${path}`) => {
    const partner = await call('POST', '/admin/partners', { name });
    const partnerId = partner.json.partnerUniqueId as string;
    secrets.push(partner.json.apiKey);
    partnerKeys.set(partnerId, partner.json.apiKey);
    // A custom header value, as partners register their own tokens: the log scan looks for it too.
    const headerToken = `tok_${randomBytes(12).toString('hex')}`;
    const callback = await call(
      'PUT',
      `/${partnerId}/callbacks/5`,
      { callbackUrl, headers: { 'X-Partner-Token': headerToken } },
      partner.json.apiKey,
    );
    secrets.push(callback.json.signingSecret, headerToken);
    return partnerId;
  };
  /** Milliseconds from the 202 to the receiver's receipt, for each of `count` events published `intervalMs` apart. */
  const latencies = async (partnerId: string, count: number, intervalMs: number): Promise<number[]> => {
    const accepted = new Map<string, number>();
    for (let n = 0; n < count; n++) {
      const response = await publish(partnerId, n);
      accepted.set(response.json.notificationId, Date.now());
      await sleep(intervalMs);
    }
    await waitUntil(
      async () => [...accepted.keys()].every((id) => receiver.deliveriesOf(id).length > 0) || undefined,
      30_000,
      'the healthy partner’s events',
    );
    return [...accepted].map(([id, at]) => receiver.deliveriesOf(id)[0].receivedAt - at).sort((a, b) => a - b);
  };
  const redisCommands = async () => Number(/total_commands_processed:(\d+)/.exec(await redisInfo(redisPort, 'stats'))?.[1] ?? NaN);
  const pgTransactions = async () =>
    Number(
      (await db.query<{ n: string }>('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1', [dbName])).rows[0]
        .n,
    );
  const publish = (partnerId: string, n: number) =>
    call('POST', '/v1/notifications', { partnerUniqueId: partnerId, notificationTypeId: 5, payload: { processUniqueId: `F-${n}` } });
  const publishMany = async (partnerId: string, count: number): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < count; i += 50) {
      const batch = await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, j) => publish(partnerId, i + j)));
      for (const response of batch) {
        if (response.status !== 202) throw new Error(`publish answered ${response.status}: ${JSON.stringify(response.json)}`);
        ids.push(response.json.notificationId);
      }
    }
    return ids;
  };
  /**
   * What a fault about to happen may deliver twice: the notifications of `partnerId` not yet recorded
   * delivered (any of them may be loaded, sent or answered but unrecorded in a worker at that moment),
   * and how many the receiver has already had without the record (in flight on the wire: shown, not a bound).
   */
  const atFault = async (partnerId: string): Promise<{ pending: Set<string>; onTheWire: number }> => {
    const { rows } = await db.query<{ id: string; status: string }>(`SELECT id, status FROM notifications WHERE partner_id = $1`, [
      partnerId,
    ]);
    const pending = new Set(rows.filter((row) => row.status !== 'delivered').map((row) => row.id));
    const onTheWire = new Set(
      receiver.requests
        .filter((request) => request.answeredStatus === undefined || request.answeredStatus < 300)
        .map((request) => request.headers['webhook-id'] as string)
        .filter((id) => pending.has(id)),
    ).size;
    return { pending, onTheWire };
  };
  /**
   * Delivered, duplicates and lost for a set of notifications, from the receiver's point of view
   * and the delivery log's. The receiver counts every request it got, except those it refused on
   * purpose (the 503s that keep deliveries pending during a fault): a request whose sender died
   * before the answer counts, so a redelivery of it shows as a duplicate. Duplicates are allowed only
   * for deliveries in flight at the fault: each must be of a notification not recorded delivered then,
   * and there can be no more of them than one callback may have in flight at once (CALLBACK_MAX_IN_FLIGHT).
   */
  const tally = async (
    name: string,
    partnerId: string,
    ids: string[],
    timeoutMs: number,
    fault: { pending: Set<string>; onTheWire: number },
    extraCheck = true,
  ): Promise<void> => {
    let counts: Record<string, number> = {};
    try {
      counts = await waitUntil(
        async () => {
          const current = await statusCounts(partnerId);
          return (current.delivered ?? 0) === ids.length ? current : undefined;
        },
        timeoutMs,
        `${name}: every notification delivered`,
      );
    } catch {
      counts = await statusCounts(partnerId);
    }
    const received = new Map<string, number>();
    for (const request of receiver.requests) {
      const id = request.headers['webhook-id'] as string;
      const refusedOnPurpose = request.answeredStatus !== undefined && request.answeredStatus >= 300;
      if (!refusedOnPurpose && ids.includes(id)) received.set(id, (received.get(id) ?? 0) + 1);
    }
    const delivered = ids.filter((id) => received.has(id)).length;
    const duplicated = [...received].filter(([, n]) => n > 1).map(([id]) => id);
    const duplicates = [...received.values()].reduce((sum, n) => sum + n - 1, 0);
    const recordedBefore = duplicated.filter((id) => !fault.pending.has(id));
    const bounded = duplicates <= Number(env.CALLBACK_MAX_IN_FLIGHT) && recordedBefore.length === 0;
    const lost = ids.length - delivered;
    const ok = lost === 0 && (counts.delivered ?? 0) === ids.length && bounded && extraCheck;
    results.push({
      name,
      ok,
      line: `delivered ${delivered} of ${ids.length}, duplicates ${duplicates} (at most ${env.CALLBACK_MAX_IN_FLIGHT}, the callback's in-flight cap; ${fault.onTheWire} had reached the receiver unrecorded at the fault; ${recordedBefore.length} of notifications recorded delivered before it), lost ${lost} (log: ${JSON.stringify(counts)})`,
    });
    console.log(`fault: ${name}: ${results.at(-1)!.line}${ok ? '' : '  <-- FAILED'}`);
  };

  try {
    await waitUntil(async () => (await fetch(`${base}/health/ready`).catch(() => null))?.ok, 30_000, 'the API to be ready');
    await waitUntil(async () => workers.every((worker) => worker.output.includes('worker running')), 30_000, 'both workers to start');

    // 1. A worker SIGKILLed mid-delivery: its jobs stall, the other worker takes them.
    {
      receiver.replyAlways((_request, response) => void setTimeout(() => response.writeHead(200).end(), 1_000));
      const partner = await newPartner('Kill', '/ok/kill');
      const ids = await publishMany(partner, 200);
      await waitUntil(async () => receiver.requests.length >= 20, 20_000, 'deliveries in flight');
      const fault = await atFault(partner);
      workers[0].kill('SIGKILL');
      console.log(
        `fault: SIGKILLed worker-1 with ${fault.onTheWire} deliveries unrecorded at the receiver (both workers; CALLBACK_MAX_IN_FLIGHT 20); waiting for stalled-job recovery (up to ~75 s)`,
      );
      await tally('worker killed with SIGKILL mid-delivery', partner, ids, 120_000, fault);
      receiver.replyAlways(200);
      workers[0] = startNode('worker-1', workerArgs);
      await waitUntil(async () => workers[0].output.includes('worker running'), 30_000, 'worker-1 to restart');
    }

    // 2. Redis restarted without persistence while 1,000 notifications are pending or delayed.
    {
      receiver.replyAlways(mostly503);
      const partner = await newPartner('Redis restart', '/ok/redis');
      const ids = await publishMany(partner, 1_000);
      await waitUntil(
        async () => receiver.requests.filter((r) => r.path === '/ok/redis').length >= 300,
        60_000,
        'first attempts (now delayed retries)',
      );
      const fault = await atFault(partner);
      await redis.stop('SIGKILL');
      redis = await startRedis();
      receiver.replyAlways(200);
      console.log('fault: Redis killed and restarted empty with 1,000 notifications pending or delayed');
      await tally('Redis restarted without persistence (1,000 pending/delayed)', partner, ids, 120_000, fault);
    }

    // 3. Redis down while events arrive: accepted from PostgreSQL, delivered once Redis is back.
    {
      const partner = await newPartner('Redis down', '/ok/redis-down');
      const fault = await atFault(partner);
      await redis.stop('SIGKILL');
      const responses = await Promise.all(Array.from({ length: 50 }, (_, n) => publish(partner, n)));
      const accepted = responses.every((response) => response.status === 202);
      const ids = responses.filter((response) => response.status === 202).map((response) => response.json.notificationId as string);
      redis = await startRedis();
      console.log(`fault: Redis down at intake: ${ids.length} of 50 accepted with 202`);
      await tally('Redis down when events are published', partner, ids, 90_000, fault, accepted && ids.length === 50);
    }

    // 4. PostgreSQL down: 503 problem+json, nothing half-written, and recovery on its own.
    {
      receiver.replyAlways(mostly503);
      const partner = await newPartner('Postgres down', '/ok/pg');
      const ids = await publishMany(partner, 100);
      await waitUntil(async () => receiver.requests.filter((r) => r.path === '/ok/pg').length >= 50, 30_000, 'first attempts');
      const rowsBefore = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM notifications')).rows[0].n;
      const fault = await atFault(partner);
      proxy.cut();
      const during = await Promise.all(Array.from({ length: 10 }, (_, n) => publish(partner, 1_000 + n)));
      const all503 = during.every(
        (response) =>
          response.status === 503 &&
          response.type.startsWith('application/problem+json') &&
          // A refused connection fails at once; a connection still opening may reach INTAKE_TIMEOUT_MS first.
          ['service_unavailable', 'intake_timeout'].includes(response.json.code),
      );
      const rowsAfter = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM notifications')).rows[0].n;
      await sleep(4_000);
      proxy.restore();
      receiver.replyAlways(200);
      const recovered = await waitUntil(
        async () => (await publish(partner, 2_000)).status === 202 || undefined,
        30_000,
        'the API to accept events again',
      ).catch(() => false);
      console.log(
        `fault: PostgreSQL cut for 4 s: ${during.filter((r) => r.status === 503).length} of 10 answered 503 problem+json; rows written meanwhile: ${rowsAfter - rowsBefore}; API recovered: ${recovered}`,
      );
      const extra = (
        await db.query<{ id: string }>(`SELECT id FROM notifications WHERE partner_id = $1 AND NOT (id = ANY($2::uuid[]))`, [partner, ids])
      ).rows.map((row) => row.id);
      await tally(
        'PostgreSQL down (503 during, recovers after)',
        partner,
        [...ids, ...extra],
        90_000,
        fault,
        all503 && rowsAfter === rowsBefore && recovered === true,
      );
    }

    // 4b. PostgreSQL stalls (the proxy stops forwarding, nothing is closed) for 30 s while 300 requests/s
    //     arrive: every request is answered within 10 s (503 with Retry-After at INTAKE_TIMEOUT_MS), the
    //     API's memory stays bounded, nothing answered 503 is delivered unless retried (every 10th request
    //     carries an Idempotency-Key and is retried once after the stall), everything answered 202 is.
    {
      receiver.replyAlways(200);
      const partner = await newPartner('Stall', '/ok/stall');
      const ratePerSecond = 300;
      const stallMs = 30_000;
      interface Answer {
        n: number;
        status: number;
        code?: string;
        retryAfter: string | null;
        ms: number;
        notificationId?: string;
      }
      const send = async (n: number): Promise<Answer> => {
        const started = Date.now();
        try {
          const response = await fetch(`${base}/v1/notifications`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${ADMIN_KEY}`,
              'content-type': 'application/json',
              ...(n % 10 === 0 ? { 'idempotency-key': `stall-${n}` } : {}),
            },
            body: JSON.stringify({ partnerUniqueId: partner, notificationTypeId: 5, payload: { processUniqueId: `ST-${n}` } }),
            signal: AbortSignal.timeout(20_000),
          });
          const json = (await response.json()) as { notificationId?: string; code?: string };
          return {
            n,
            status: response.status,
            code: json.code,
            retryAfter: response.headers.get('retry-after'),
            ms: Date.now() - started,
            notificationId: json.notificationId,
          };
        } catch {
          return { n, status: 0, retryAfter: null, ms: Date.now() - started };
        }
      };
      const baselineRssMb = api.rssMb();
      let peakRssMb = baselineRssMb;
      const sampler = setInterval(() => (peakRssMb = Math.max(peakRssMb, api.rssMb())), 250);
      const answers: Array<Promise<Answer>> = [];
      const started = Date.now();
      let sent = 0;
      // 2 s of normal traffic, the 30 s stall, 3 s after it: 300 requests/s throughout, in 10 ms ticks.
      const loadMs = 2_000 + stallMs + 3_000;
      const generator = setInterval(() => {
        const due = Math.min(Math.floor(((Date.now() - started) * ratePerSecond) / 1000), (loadMs * ratePerSecond) / 1000);
        while (sent < due) answers.push(send(sent++));
      }, 10);
      await sleep(2_000);
      proxy.pause();
      await sleep(stallMs);
      proxy.resume();
      await sleep(loadMs - (Date.now() - started));
      clearInterval(generator);
      const first = await Promise.all(answers);
      clearInterval(sampler);
      // The keyed requests answered 503 are retried once (as a publisher honouring Retry-After would).
      const retried = await Promise.all(
        first.filter((answer) => answer.status === 503 && answer.n % 10 === 0).map((answer) => send(answer.n)),
      );
      const accepted = [...first, ...retried].filter((answer) => answer.status === 202);
      const refused = first.filter((answer) => answer.status === 503);
      const unretried = new Set(refused.filter((answer) => answer.n % 10 !== 0).map((answer) => `ST-${answer.n}`));
      const slowest = Math.max(...first.map((answer) => answer.ms));
      const wellFormed503 = refused.every((answer) => answer.retryAfter !== null && answer.code !== undefined);
      const acceptedIds = [...new Set(accepted.map((answer) => answer.notificationId!))];
      const allDelivered = await waitUntil(
        async () => acceptedIds.every((id) => receiver.deliveriesOf(id).length > 0) || undefined,
        90_000,
        'every notification answered 202 to be delivered',
      ).catch(() => false);
      // Long enough for a reconciler pass (every 2 s, grace 8 s) to have enqueued anything it would.
      await sleep(12_000);
      const stallDeliveries = receiver.requests.filter((request) => request.path === '/ok/stall');
      const processOf = (body: string) => (JSON.parse(body) as { data: { processUniqueId: string } }).data.processUniqueId;
      const deliveredRefused = stallDeliveries.filter((request) => unretried.has(processOf(request.body))).length;
      const storedRefused = (
        await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM notifications WHERE process_unique_id = ANY($1::text[])`, [
          [...unretried],
        ])
      ).rows[0].n;
      const retriedProcesses = new Set(retried.map((answer) => `ST-${answer.n}`));
      const retriedIdsDelivered = new Map<string, Set<string>>();
      for (const request of stallDeliveries) {
        const process = processOf(request.body);
        if (!retriedProcesses.has(process)) continue;
        const ids = retriedIdsDelivered.get(process) ?? new Set<string>();
        ids.add(request.headers['webhook-id'] as string);
        retriedIdsDelivered.set(process, ids);
      }
      const retriedOnce = retried.every((answer) => answer.status === 202 && retriedIdsDelivered.get(`ST-${answer.n}`)?.size === 1);
      const unanswered = first.filter((answer) => answer.status === 0).length;
      const ok =
        unanswered === 0 &&
        slowest <= 10_000 &&
        wellFormed503 &&
        allDelivered === true &&
        deliveredRefused === 0 &&
        storedRefused === 0 &&
        retriedOnce &&
        refused.length > 0 &&
        peakRssMb < STALL_RSS_BOUND_MB;
      const byStatus = Object.entries(
        first.reduce<Record<string, number>>((counts, answer) => ({ ...counts, [answer.status]: (counts[answer.status] ?? 0) + 1 }), {}),
      )
        .map(([status, n]) => `${n}×${status}`)
        .join(', ');
      results.push({
        name: 'PostgreSQL stalled 30 s under 300 requests/s: answered within 10 s, memory bounded, 503s not delivered, 202s delivered',
        ok,
        line:
          `${first.length} requests (${byStatus}), slowest answer ${slowest} ms, unanswered ${unanswered}; API RSS ${Math.round(baselineRssMb)} MB before, peak ${Math.round(peakRssMb)} MB (bound ${STALL_RSS_BOUND_MB}); ` +
          `202s delivered: ${allDelivered === true}; answered 503 and not retried: ${unretried.size}, of them stored ${storedRefused}, delivered ${deliveredRefused}; ` +
          `keyed 503s retried: ${retried.length}, each then 202 and delivered under one id: ${retriedOnce}`,
      });
      console.log(`fault: ${results.at(-1)!.line}${ok ? '' : '  <-- FAILED'}`);
    }

    // 5. Hostile receivers: each attempt ends within DELIVERY_TIMEOUT_MS and the error is named.
    {
      const hostile: Record<string, Parameters<TestReceiver['replyAlways']>[0]> = {
        reset: 'reset',
        silent: 'hang',
        drip: (_request, response) => {
          response.writeHead(500);
          const drip = setInterval(() => response.write('x'), 100);
          response.on('close', () => clearInterval(drip));
        },
        huge: (_request, response) => streamLargeBody(response, 500, 50 * 1024 * 1024),
      };
      receiver.replyAlways((request, response) => {
        const kind = Object.keys(hostile).find((name) => request.path.startsWith(`/${name}`));
        const reply = kind ? hostile[kind] : undefined;
        if (reply === 'reset') return void response.socket?.destroy();
        if (reply === 'hang' || reply === undefined) return;
        if (typeof reply === 'function') reply(request, response);
      });
      const partners: Record<string, string> = {};
      for (const kind of Object.keys(hostile)) partners[kind] = await newPartner(`Hostile ${kind}`, `/${kind}`);
      for (const kind of Object.keys(hostile)) await publishMany(partners[kind], 5);
      await sleep(DELIVERY_TIMEOUT_MS * 2 + 3_000);
      const expectations: Record<string, (row: { status_code: number | null; error: string | null }) => boolean> = {
        reset: (row) => row.error === 'connection_reset',
        silent: (row) => row.error === 'timeout',
        drip: (row) => row.status_code === 500,
        huge: (row) => row.status_code === 500,
      };
      let allGood = true;
      for (const kind of Object.keys(hostile)) {
        const { rows } = await db.query<{ status_code: number | null; error: string | null; duration_ms: number }>(
          `SELECT a.status_code, a.error, a.duration_ms FROM delivery_attempts a JOIN notifications n ON n.id = a.notification_id WHERE n.partner_id = $1`,
          [partners[kind]],
        );
        const slowest = Math.max(...rows.map((row) => row.duration_ms));
        const good = rows.length >= 5 && rows.every(expectations[kind]) && slowest <= DELIVERY_TIMEOUT_MS + 500;
        allGood &&= good;
        console.log(
          `fault: hostile receiver "${kind}": ${rows.length} attempts, errors ${JSON.stringify([...new Set(rows.map((row) => row.error ?? `HTTP ${row.status_code}`))])}, slowest ${slowest} ms${good ? '' : '  <-- FAILED'}`,
        );
      }
      const rssMb = workers.map((worker) => Math.round(worker.rssMb()));
      const bounded = rssMb.every((mb) => mb < 300);
      console.log(`fault: worker RSS after hostile receivers (50 MiB bodies among them): ${rssMb.join(' / ')} MB`);
      results.push({
        name: 'hostile receivers end within the deadline with the error named, memory bounded',
        ok: allGood && bounded,
        line: `worker RSS ${rssMb.join(' / ')} MB`,
      });
    }

    // 6. A partner with a valid key, within its limits, sends the payload shape that once crashed
    //    every worker (256 KiB of empty objects), and payloads at the value limit, each redelivered twice.
    {
      receiver.replyAlways(200);
      const poisoner = await newPartner('Poison', '/ok/poison');
      const key = partnerKeys.get(poisoner)!;
      const echo = (body: string) =>
        fetch(`${base}/v1/callbacks/echo/${poisoner}/5`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body,
        });
      const poison = `{"processUniqueId":"P","items":[${Array.from({ length: 87_000 }, () => '{}').join(',')}]}`;
      // Exactly 10,000 values: the object, the id, the array and 9,997 strings of 20 characters (about 250 KiB).
      const atLimit = `{"processUniqueId":"P","items":[${Array.from({ length: 9_997 }, (_, n) => JSON.stringify(`item-${String(n).padStart(15, '0')}`)).join(',')}]}`;
      const poisonStatuses = await Promise.all(Array.from({ length: 30 }, () => echo(poison).then((response) => response.status)));
      const accepted = await Promise.all(
        Array.from({ length: 30 }, () => echo(atLimit).then((response) => response.json() as Promise<{ notificationId: string }>)),
      );
      const ids = accepted.map((response) => response.notificationId);
      for (let round = 0; round < 2; round++) {
        await waitUntil(
          async () => (await statusCounts(poisoner)).delivered === 30 || undefined,
          60_000,
          'the payloads at the limit to be delivered',
        );
        await Promise.all(ids.map((id) => call('POST', `/${poisoner}/notifications/${id}/redeliver`, undefined, key)));
        await sleep(500);
      }
      await waitUntil(async () => (await statusCounts(poisoner)).delivered === 30 || undefined, 60_000, 'the redeliveries');
      await sleep(15_000);
      const alive = workers.every((worker) => worker.running);
      const healthy = await newPartner('After poison', '/ok/after-poison');
      const [latency] = await latencies(healthy, 1, 0);
      const rssMb = workers.map((worker) => Math.round(worker.rssMb()));
      const refused = poisonStatuses.every((status) => status === 422);
      const delivered = receiver.requests.filter((request) => request.path === '/ok/poison').length;
      const ok = refused && alive && latency < 1_000 && delivered >= 90;
      results.push({
        name: 'poison payloads: refused or delivered, every worker alive',
        ok,
        line: `87,000-value echoes: ${poisonStatuses.filter((status) => status === 422).length} of 30 refused with 422; 10,000-value echoes delivered ${delivered} times (30 + 2 redeliveries each); workers alive 15 s later: ${alive}; RSS ${rssMb.join(' / ')} MB; a healthy partner's next event took ${latency} ms`,
      });
      console.log(`fault: ${results.at(-1)!.line}${ok ? '' : '  <-- FAILED'}`);
    }

    // 7. A slow partner's deep backlog waits parked: the work it costs follows what is sent, not how
    //    many wait, and a healthy partner is not slowed down. The same measure is taken twice, with
    //    2,000 waiting and with 80 waiting: per delivery sent, the two must cost about the same.
    {
      receiver.replyAlways((request, response) => {
        if (request.path.startsWith('/slow')) return void setTimeout(() => response.writeHead(200).end(), 1_000);
        response.writeHead(200).end();
      });
      const slowSent = (path: string) => receiver.requests.filter((request) => request.path === path).length;
      /** Redis commands, PostgreSQL statements and slow deliveries over `windowMs`, while `during` runs. */
      const measure = async (path: string, windowMs: number, during: () => Promise<unknown> = async () => undefined) => {
        const [sentBefore, commandsBefore, callsBefore, transactionsBefore, started] = [
          slowSent(path),
          await redisCommands(),
          await redisCommandCalls(redisPort),
          await pgTransactions(),
          Date.now(),
        ];
        const extra = await during();
        await sleep(Math.max(0, windowMs - (Date.now() - started)));
        const seconds = (Date.now() - started) / 1000;
        const sentPerSecond = (slowSent(path) - sentBefore) / seconds;
        const commandsPerSecond = ((await redisCommands()) - commandsBefore) / seconds;
        const transactionsPerSecond = ((await pgTransactions()) - transactionsBefore) / seconds;
        const busiest = [...(await redisCommandCalls(redisPort))]
          .map(([command, calls]) => [command, calls - (callsBefore.get(command) ?? 0)] as const)
          .sort((x, y) => y[1] - x[1])
          .slice(0, 5)
          .map(([command, calls]) => `${command} ${(calls / seconds).toFixed(0)}/s`);
        return { seconds, sentPerSecond, commandsPerSecond, transactionsPerSecond, busiest, extra };
      };
      const slow = await newPartner('Slow', '/slow');
      const healthy = await newPartner('Healthy beside slow', '/ok/healthy');
      await publishMany(slow, 2_000);
      await waitUntil(async () => slowSent('/slow') >= 40 || undefined, 30_000, 'the slow backlog to start');
      const deep = await measure('/slow', 15_000, () => latencies(healthy, 200, 50));
      // End the rest of the deep backlog, and let its parked jobs wake and find it ended.
      await db.query(
        `UPDATE notifications SET status = 'failed', status_reason = 'fault_run_cleanup', next_attempt_at = NULL WHERE partner_id = $1 AND status = 'pending'`,
        [slow],
      );
      await sleep(5_000);
      const shallowPartner = await newPartner('Slow, short backlog', '/slow-short');
      await publishMany(shallowPartner, 100);
      await waitUntil(async () => slowSent('/slow-short') >= 20 || undefined, 30_000, 'the short backlog to start');
      const shallow = await measure('/slow-short', 3_000);

      const healthyLatencies = deep.extra as number[];
      const p99 = healthyLatencies[Math.min(healthyLatencies.length - 1, Math.ceil(healthyLatencies.length * 0.99) - 1)];
      const perDelivery = (window: typeof deep, healthyPerSecond: number) => ({
        redis: window.commandsPerSecond / (window.sentPerSecond + healthyPerSecond),
        pg: window.transactionsPerSecond / (window.sentPerSecond + healthyPerSecond),
      });
      const deepCost = perDelivery(deep, healthyLatencies.length / deep.seconds);
      const shallowCost = perDelivery(shallow, 0);
      // Polling made the deep backlog cost about 50 times the shallow one (2,000 waiting against 80).
      const proportional = deepCost.redis < 2 * shallowCost.redis && deepCost.pg < 2 * shallowCost.pg + 1;
      const ok = p99 < 500 && proportional;
      const describe = (window: typeof deep, cost: typeof deepCost) =>
        `${window.sentPerSecond.toFixed(1)} slow deliveries/s, Redis ${window.commandsPerSecond.toFixed(0)} commands/s (${cost.redis.toFixed(0)} per delivery), ` +
        `PostgreSQL ${window.transactionsPerSecond.toFixed(0)} statements/s (${cost.pg.toFixed(1)} per delivery); busiest (script-internal included): ${window.busiest.join(', ')}`;
      results.push({
        name: 'a parked backlog costs in proportion to what is sent (2,000 waiting behind a 1 s endpoint, cap 20)',
        ok,
        line: `2,000 waiting: ${describe(deep, deepCost)}; healthy partner p99 ${p99} ms over ${healthyLatencies.length} events. 80 waiting: ${describe(shallow, shallowCost)}`,
      });
      console.log(`fault: ${results.at(-1)!.line}${ok ? '' : '  <-- FAILED'}`);
      await db.query(
        `UPDATE notifications SET status = 'failed', status_reason = 'fault_run_cleanup', next_attempt_at = NULL WHERE partner_id = $1 AND status = 'pending'`,
        [shallowPartner],
      );
    }

    // 8. A dead endpoint behind a circuit that never closes: every notification still ends failed
    //    within its schedule plus CIRCUIT_OPEN_MS plus 60 s.
    {
      const scheduleMs = 2_000;
      const circuitOpenMs = 30_000;
      await restartWorkers({ RETRY_SCHEDULE: '1s,1s', CIRCUIT_FAILURE_THRESHOLD: '5', CIRCUIT_OPEN_MS: String(circuitOpenMs) });
      const dead = await newPartner('Dead endpoint', '', `http://127.0.0.1:${await freePort()}/closed`);
      const started = Date.now();
      await publishMany(dead, 300);
      const boundMs = scheduleMs + circuitOpenMs + 60_000;
      const counts = await waitUntil(
        async () => {
          const current = await statusCounts(dead);
          return current.failed === 300 ? current : undefined;
        },
        boundMs,
        '300 notifications to a closed port to fail',
      ).catch(async () => statusCounts(dead));
      const tookMs = Date.now() - started;
      const { rows } = await db.query<{ error: string; n: number }>(
        `SELECT a.error, count(*)::int AS n FROM delivery_attempts a JOIN notifications n ON n.id = a.notification_id WHERE n.partner_id = $1 GROUP BY a.error`,
        [dead],
      );
      const ok = counts.failed === 300 && tookMs <= boundMs;
      results.push({
        name: 'a dead endpoint’s backlog ends within schedule + CIRCUIT_OPEN_MS + 60 s',
        ok,
        line: `${counts.failed ?? 0} of 300 failed in ${(tookMs / 1000).toFixed(1)} s (bound ${boundMs / 1000} s); attempts by error ${JSON.stringify(Object.fromEntries(rows.map((row) => [row.error, row.n])))}`,
      });
      console.log(`fault: ${results.at(-1)!.line}${ok ? '' : '  <-- FAILED'}`);
      await restartWorkers();
    }

    // 9. No API key, signing secret, custom header value or the operator key in any process's logs.
    {
      const logs = everyProcess()
        .map((proc) => proc.output)
        .join('\n');
      const leaked = secrets.filter((secret) => secret && logs.includes(secret));
      results.push({
        name: 'no secret or API key in the logs',
        ok: leaked.length === 0 && logs.length > 0,
        line: `${secrets.length} secrets checked against ${logs.length} bytes of logs, ${leaked.length} found`,
      });
      console.log(`fault: logs: ${results.at(-1)!.line}`);
    }
  } catch (error) {
    results.push({ name: 'fault run', ok: false, line: error instanceof Error ? error.message : String(error) });
    console.error(error);
    for (const proc of everyProcess()) console.error(`--- ${proc.name} (last lines)\n${proc.output.split('\n').slice(-15).join('\n')}`);
  } finally {
    await Promise.all(everyProcess().map((proc) => proc.stop()));
    await redis.stop();
    await receiver.close();
    await db.end();
    await proxy.close();
    await dropDatabase(direct.toString());
  }

  console.log('');
  for (const result of results) console.log(`${result.ok ? 'PASS' : 'FAIL'}  ${result.name}: ${result.line}`);
  const failed = results.filter((result) => !result.ok).length;
  console.log(`faults: ${results.length - failed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

void main();
