/**
 * `npm run bench:parked`: what a parked backlog costs, per delivery sent, behind a slow but working
 * endpoint (it answers 200 after 2 s; CALLBACK_MAX_IN_FLIGHT 10, two workers). It starts its own
 * Redis (INFO commandstats counts every client of a server: a shared one would count its other
 * users), a receiver, the API and two workers, on a database of its own.
 *
 * - default: one row per backlog, 2,000 and 20,000 waiting: deliveries/s, Redis commands (scripts'
 *   inner commands included, as Redis counts them) and notification row writes (n_tup_upd of
 *   pg_stat_user_tables) per delivery sent, over a window once the backlog is parked.
 * - `check` (PARKED_MODE=check): the issue's check. A backlog of 4,000; the same figures over
 *   90–150 s after it was published (nothing has waited 5 minutes yet) and over 295–347 s (when the
 *   old 5-minute park timeouts came due): the rate must stay at least 0.8 of before, and the costs
 *   within 2x of before.
 */
import { join } from 'node:path';
import { Pool as PgPool } from 'pg';
import { Pool } from 'undici';
import { dropDatabase, migrateDatabase } from '@callbacks/persistence';
import { ChildApp, freePort, redisCommandCalls } from '@callbacks/testing';
import { BENCH_ADMIN_KEY, benchEnvironment, benchServices, DIST, sleep, waitForApi } from './support';

const SLOW_MS = 2_000;
const WORKERS = 2;
const CLIENTS = 32;
/** The backlogs of the rows (PARKED_BACKLOGS, comma-separated). */
const BACKLOGS = (process.env.PARKED_BACKLOGS ?? '2000,20000').split(',').map(Number);

const total = (calls: Map<string, number>) => [...calls.values()].reduce((sum, n) => sum + n, 0);

interface Window {
  fromSeconds: number;
  seconds: number;
  deliveries: number;
  perSecond: number;
  redisCommandsPerDelivery: number;
  rowWritesPerDelivery: number;
  /** The commands called most, per delivery. */
  busiestCommands: Record<string, number>;
}

class Run {
  private readonly processes: ChildApp[] = [];
  private api!: Pool;
  private db!: PgPool;
  private receiverUrl = '';
  private env: Record<string, string> = {};
  private redisPort = 0;
  private databaseUrl = '';

  async start(): Promise<void> {
    const services = await benchServices('webhooks_parked');
    this.databaseUrl = services.databaseUrl;
    await migrateDatabase(this.databaseUrl);
    this.db = new PgPool({ connectionString: this.databaseUrl, max: 2 });
    this.redisPort = await freePort();
    const redis = ChildApp.start(
      'redis',
      'redis-server',
      ['--port', String(this.redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'],
      process.env,
    );
    this.processes.push(redis);
    await redis.waitForOutput('Ready to accept connections', 10_000);
    const receiver = ChildApp.start('receiver', process.execPath, [join(DIST, 'bench/bench/receiver.js')], process.env);
    this.processes.push(receiver);
    this.receiverUrl = `http://127.0.0.1:${JSON.parse(await receiver.waitForOutput(/\{"port":\d+\}/)).port}`;
    const apiPort = await freePort();
    this.env = {
      ...benchEnvironment({
        apiPort,
        databaseUrl: this.databaseUrl,
        redisUrl: `redis://127.0.0.1:${this.redisPort}`,
        queuePrefix: 'parked',
      }),
      CALLBACK_MAX_IN_FLIGHT: '10',
    };
    const api = this.node('api', join(DIST, 'apps/api/apps/api/src/main.js'));
    this.api = new Pool(`http://127.0.0.1:${apiPort}`, { connections: CLIENTS });
    await waitForApi(apiPort, api, 60_000);
    for (let index = 0; index < WORKERS; index++) this.node(`worker${index + 1}`, join(DIST, 'apps/worker/apps/worker/src/main.js'));
  }

  private node(name: string, script: string): ChildApp {
    const child = ChildApp.start(name, process.execPath, [script], { ...process.env, ...this.env });
    this.processes.push(child);
    return child;
  }

  private async call(method: 'POST' | 'PUT', path: string, body: unknown): Promise<{ status: number; json: { [key: string]: unknown } }> {
    const response = await this.api.request({
      method,
      path,
      headers: { authorization: `Bearer ${BENCH_ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.body.text();
    return { status: response.statusCode, json: text ? JSON.parse(text) : {} };
  }

  /** A partner whose callback is the slow endpoint at `/slow/2000/<name>`; returns its id. */
  async slowPartner(name: string): Promise<string> {
    const partner = await this.call('POST', '/admin/partners', { name });
    const id = partner.json.partnerUniqueId as string;
    const callback = await this.call('PUT', `/${id}/callbacks/5`, { callbackUrl: `${this.receiverUrl}/slow/${SLOW_MS}/${name}` });
    if (callback.status !== 201) throw new Error(`callback registration failed: ${JSON.stringify(callback.json)}`);
    return id;
  }

  async publish(partnerId: string, count: number): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (next < count) {
          const n = next++;
          const response = await this.call('POST', '/v1/notifications', {
            partnerUniqueId: partnerId,
            notificationTypeId: 5,
            payload: { processUniqueId: `PRC-${n}`, status: 'approved' },
          });
          if (response.status !== 202) throw new Error(`publish answered ${response.status}`);
        }
      }),
    );
  }

  async received(): Promise<number> {
    return ((await (await fetch(`${this.receiverUrl}/stats`)).json()) as { received: number }).received;
  }

  private async rowWrites(): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(`SELECT n_tup_upd AS n FROM pg_stat_user_tables WHERE relname = 'notifications'`);
    return Number(rows[0]?.n ?? 0);
  }

  /** The figures over [from, to] seconds after `origin` (ms, Date.now()). */
  async window(origin: number, fromSeconds: number, toSeconds: number): Promise<Window> {
    await sleep(Math.max(0, origin + fromSeconds * 1000 - Date.now()));
    const started = Date.now();
    const [deliveries0, calls0, writes0] = [await this.received(), await redisCommandCalls(this.redisPort), await this.rowWrites()];
    await sleep(Math.max(0, origin + toSeconds * 1000 - Date.now()));
    // PostgreSQL publishes its counters within a second or so of a backend going idle.
    const [deliveries1, calls1] = [await this.received(), await redisCommandCalls(this.redisPort)];
    const seconds = (Date.now() - started) / 1000;
    await sleep(1_500);
    const writes1 = await this.rowWrites();
    const deliveries = deliveries1 - deliveries0;
    return {
      fromSeconds,
      seconds,
      deliveries,
      perSecond: deliveries / seconds,
      redisCommandsPerDelivery: (total(calls1) - total(calls0)) / deliveries,
      rowWritesPerDelivery: (writes1 - writes0) / deliveries,
      busiestCommands: Object.fromEntries(
        [...calls1]
          .map(([command, calls]) => [command, Number(((calls - (calls0.get(command) ?? 0)) / deliveries).toFixed(1))] as const)
          .sort((x, y) => y[1] - x[1])
          .slice(0, 8),
      ),
    };
  }

  /** Ends what a backlog left pending, so the next row starts from nothing parked. */
  async endBacklog(partnerId: string): Promise<void> {
    await this.db.query(
      `UPDATE notifications SET status = 'failed', status_reason = 'bench_cleanup', next_attempt_at = NULL, parked_at = NULL
        WHERE partner_id = $1 AND status = 'pending'`,
      [partnerId],
    );
  }

  async stop(): Promise<void> {
    await this.api?.close();
    for (const child of [...this.processes].reverse()) await child.stop('SIGTERM', 20_000);
    await this.db?.end();
    if (this.databaseUrl) await dropDatabase(this.databaseUrl);
  }
}

const describe = (window: Window) =>
  `${window.perSecond.toFixed(2)} deliveries/s, ${window.redisCommandsPerDelivery.toFixed(1)} Redis commands and ` +
  `${window.rowWritesPerDelivery.toFixed(2)} notification row writes per delivery (${window.deliveries} deliveries in ${window.seconds.toFixed(0)} s from ${window.fromSeconds} s); ` +
  `busiest commands per delivery: ${JSON.stringify(window.busiestCommands)}`;

/** The rows' figures, also printed as one JSON line for bench/run.ts (parkedBacklogPhase). */
export interface ParkedBacklogRow extends Window {
  backlog: number;
}

async function rows(run: Run): Promise<void> {
  const results: ParkedBacklogRow[] = [];
  for (const backlog of BACKLOGS) {
    const partner = await run.slowPartner(`parked-${backlog}`);
    const published = Date.now();
    await run.publish(partner, backlog);
    const publishSeconds = Math.ceil((Date.now() - published) / 1000);
    // The window opens once every job has run once and parked.
    const window = await run.window(published, publishSeconds + 30, publishSeconds + 90);
    console.log(`parked backlog of ${backlog.toLocaleString('en')} behind a ${SLOW_MS / 1000} s endpoint: ${describe(window)}`);
    results.push({ backlog, ...window });
    await run.endBacklog(partner);
    await sleep(10_000);
  }
  console.log(JSON.stringify({ parkedBacklog: results }));
}

async function check(run: Run): Promise<boolean> {
  const partner = await run.slowPartner('parked-check');
  await run.publish(partner, 4_000);
  const published = Date.now();
  const before = await run.window(published, 90, 150);
  console.log(`before (90–150 s): ${describe(before)}`);
  const across = await run.window(published, 295, 347);
  console.log(`across the 5-minute mark (295–347 s): ${describe(across)}`);
  const rate = across.perSecond / before.perSecond;
  const commands = across.redisCommandsPerDelivery / before.redisCommandsPerDelivery;
  const writes = across.rowWritesPerDelivery / before.rowWritesPerDelivery;
  const ok = rate >= 0.8 && commands <= 2 && writes <= 2;
  console.log(
    `check: rate ${rate.toFixed(2)} of before (goal ≥ 0.8), Redis commands per delivery ${commands.toFixed(2)}x, row writes per delivery ${writes.toFixed(2)}x (goal ≤ 2x): ${ok ? 'PASS' : 'FAIL'}`,
  );
  await run.endBacklog(partner);
  return ok;
}

async function main(): Promise<void> {
  const mode = process.argv[2] ?? process.env.PARKED_MODE ?? 'rows';
  const run = new Run();
  let ok = true;
  try {
    await run.start();
    if (mode === 'check') ok = await check(run);
    else await rows(run);
  } finally {
    await run.stop();
  }
  process.exit(ok ? 0 : 1);
}

if (require.main === module)
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
