/**
 * `npm run bench:scale`: the data lifecycle at a million notifications.
 *
 * Seeds a fresh database with generate_series (BENCH_SCALE_ROWS, default 1,000,000):
 *   800,000 terminal (delivered, failed, skipped), 50,000 of them past RETENTION_PERIOD (30 days),
 *   each with one attempt; 100,000 idempotency keys, half past their 24 hours;
 *   100,000 pending due in the next 10 hours (quiet: whether their jobs exist, the reconciler must not even ask);
 *   99,000 pending due in 15 to 30 minutes (a busy platform's near future);
 *   1,000 pending overdue by an hour whose jobs are gone (what the reconciler is for).
 * Then, with the API as its own process and a worker app in this process (its timers parked, so each
 * pass is called by hand), it measures one reconciler pass, the retention sweep, and intake p99
 * (POST /v1/notifications from a few concurrent clients) at rest and while the sweep runs; and the
 * write cost of the sweep's index on the update every delivery makes. Prints a table and writes
 * bench/results/scale-<date>.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { Pool as PgPool } from 'pg';
import { Pool } from 'undici';
import { loadConfig } from '@callbacks/config';
import { dropDatabase, migrateDatabase } from '@callbacks/persistence';
import { ChildApp, freePort } from '@callbacks/testing';
import { PeriodicPassRunner } from '../apps/worker/src/passes/periodic-pass-runner';
import { Reconciler } from '../apps/worker/src/reconciler/reconciler';
import { RetentionSweep } from '../apps/worker/src/retention/retention-sweep';
import { createWorkerApp, startWorkerApp } from '../apps/worker/src/worker-app';
import { BENCH_ADMIN_KEY as ADMIN_KEY, benchEnvironment, benchServices, DIST, ROOT, sleep, waitForApi } from './support';

const ROWS = Number(process.env.BENCH_SCALE_ROWS ?? 1_000_000);
const PARTNERS = 20;
const INTAKE_CLIENTS = 4;
const REST_SECONDS = 10;
const ROW_WRITES = 5_000;

/** The row counts of each band, scaled from the million the issue names. */
const scaled = (n: number) => Math.round((n * ROWS) / 1_000_000);
const BANDS = { retained: scaled(750_000), expired: scaled(50_000), quiet: scaled(100_000), overdue: scaled(1_000), keys: scaled(100_000) };
const SOON = ROWS - BANDS.retained - BANDS.expired - BANDS.quiet - BANDS.overdue;

const log = (line: string) => console.log(`bench:scale: ${line}`);
const round = (n: number) => Math.round(n * 10) / 10;

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await work();
  return { result, ms: round(performance.now() - started) };
}

function latencySummary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN);
  return { requests: values.length, p50: at(0.5), p99: at(0.99), max: at(1) };
}

/** POST /v1/notifications from INTAKE_CLIENTS clients in a closed loop until `until` resolves; each request's latency in ms. */
async function intakeWhile(api: Pool, partners: string[], until: Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  let done = false;
  void until.finally(() => (done = true));
  let n = 0;
  await Promise.all(
    Array.from({ length: INTAKE_CLIENTS }, async () => {
      while (!done) {
        const started = performance.now();
        const response = await api.request({
          method: 'POST',
          path: '/v1/notifications',
          headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            partnerUniqueId: partners[n % partners.length],
            notificationTypeId: 5,
            payload: { processUniqueId: `PRC-LIVE-${n++}`, status: 'approved' },
          }),
        });
        await response.body.text();
        if (response.statusCode !== 202) throw new Error(`intake answered ${response.statusCode}`);
        latencies.push(performance.now() - started);
      }
    }),
  );
  return latencies;
}

/** One band of notifications: `count` rows from generate_series, spread over the partners. */
async function seedBand(db: PgPool, count: number, status: string, updatedAt: string, nextAttemptAt: string): Promise<void> {
  if (count <= 0) return;
  await db.query(
    `INSERT INTO notifications (id, partner_id, notification_type_id, payload, process_unique_id, status, status_reason, attempt_count, round_attempts,
                                created_at, updated_at, last_attempt_at, next_attempt_at, delivered_at)
     SELECT gen_random_uuid(), p.ids[1 + g.i % array_length(p.ids, 1)], 5,
            json_build_object('processUniqueId', 'PRC-' || g.i, 'status', 'approved', 'note', repeat('x', 200)), 'PRC-' || g.i,
            g.status, CASE g.status WHEN 'failed' THEN 'retries_exhausted' WHEN 'skipped' THEN 'no_callback' END,
            1, 1, g.updated_at - interval '1 minute', g.updated_at, g.updated_at, g.next_attempt_at,
            CASE WHEN g.status = 'delivered' THEN g.updated_at END
       FROM (SELECT i, ${status} AS status, (${updatedAt}) AS updated_at, (${nextAttemptAt})::timestamptz AS next_attempt_at FROM generate_series(1, $1) AS i) AS g
      CROSS JOIN (SELECT array_agg(id) AS ids FROM partners) AS p`,
    [count],
  );
}

async function seed(db: PgPool): Promise<Record<string, number>> {
  const terminal = `(CASE WHEN i % 20 = 0 THEN 'failed' WHEN i % 20 = 1 THEN 'skipped' ELSE 'delivered' END)`;
  await seedBand(db, BANDS.retained, terminal, `now() - random() * interval '29 days'`, 'NULL');
  await seedBand(db, BANDS.expired, terminal, `now() - interval '31 days' - random() * interval '60 days'`, 'NULL');
  await seedBand(
    db,
    BANDS.quiet,
    `'pending'`,
    `now() - random() * interval '1 hour'`,
    `now() + interval '1 minute' + random() * interval '10 hours'`,
  );
  await seedBand(
    db,
    SOON,
    `'pending'`,
    `now() - random() * interval '10 seconds'`,
    `now() + interval '15 minutes' + random() * interval '15 minutes'`,
  );
  await seedBand(db, BANDS.overdue, `'pending'`, `now() - interval '1 hour'`, `now() - interval '1 hour' - random() * interval '1 hour'`);
  await db.query(
    `INSERT INTO delivery_attempts (notification_id, attempt, at, callback_url, status_code, duration_ms, response_body)
     SELECT id, 1, updated_at, 'https://partner.example/hooks', CASE status WHEN 'failed' THEN 500 ELSE 200 END, 12, 'ok'
       FROM notifications WHERE status <> 'skipped'`,
  );
  await db.query(
    `INSERT INTO idempotency_keys (caller, key, notification_id, response_status, created_at)
     SELECT 'admin', 'key-' || id, id, 'pending', CASE WHEN n % 2 = 0 THEN now() - interval '2 days' ELSE now() - interval '1 hour' END
       FROM (SELECT id, row_number() OVER () AS n FROM notifications WHERE status = 'delivered' AND updated_at > now() - interval '28 days' LIMIT $1) AS k`,
    [BANDS.keys],
  );
  const [counts] = (
    await db.query(
      `SELECT (SELECT count(*) FROM notifications)::int AS notifications,
              (SELECT count(*) FROM notifications WHERE status <> 'pending')::int AS terminal,
              (SELECT count(*) FROM notifications WHERE status <> 'pending' AND updated_at < now() - interval '30 days')::int AS "pastRetention",
              (SELECT count(*) FROM notifications WHERE status = 'pending' AND next_attempt_at > now())::int AS "pendingFuture",
              (SELECT count(*) FROM notifications WHERE status = 'pending' AND next_attempt_at < now() - interval '30 seconds')::int AS overdue,
              (SELECT count(*) FROM delivery_attempts)::int AS attempts,
              (SELECT count(*) FROM idempotency_keys)::int AS "idempotencyKeys",
              (SELECT count(*) FROM idempotency_keys WHERE created_at < now() - interval '24 hours')::int AS "expiredKeys",
              pg_total_relation_size('notifications')::bigint / 1048576 AS "notificationsMb"`,
    )
  ).rows;
  return counts;
}

/**
 * What ix_notifications_retention costs the update every delivery makes (pending -> delivered):
 * single-row updates from 8 connections, alternately with the index and without it, twice each.
 */
async function retentionIndexWriteCost(db: PgPool): Promise<Record<string, number>> {
  const perRun = Math.min(ROW_WRITES, Math.floor(BANDS.quiet / 5));
  const deliverSome = async (): Promise<number> => {
    const { rows } = await db.query<{ id: string }>(
      `SELECT id FROM notifications WHERE status = 'pending' AND next_attempt_at > now() + interval '1 hour' LIMIT $1`,
      [perRun],
    );
    let next = 0;
    const { ms } = await timed(() =>
      Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < rows.length) {
            const { id } = rows[next++];
            await db.query(
              `UPDATE notifications SET status = 'delivered', next_attempt_at = NULL, delivered_at = now(), updated_at = now() WHERE id = $1`,
              [id],
            );
          }
        }),
      ),
    );
    return (ms * 1000) / rows.length;
  };
  const withIndex: number[] = [];
  const withoutIndex: number[] = [];
  for (let run = 0; run < 2; run++) {
    withIndex.push(await deliverSome());
    await db.query('DROP INDEX ix_notifications_retention');
    withoutIndex.push(await deliverSome());
    await db.query(`CREATE INDEX ix_notifications_retention ON notifications (updated_at) WHERE status <> 'pending'`);
  }
  const mean = (values: number[]) => round(values.reduce((sum, value) => sum + value, 0) / values.length);
  return { updatesPerRun: perRun, runs: 2, withIndexMicrosPerUpdate: mean(withIndex), withoutIndexMicrosPerUpdate: mean(withoutIndex) };
}

/** When PostgreSQL last analysed the seeded tables, by hand or by autovacuum (null: never since the seed). */
async function statistics(db: PgPool): Promise<Record<string, unknown>> {
  const { rows } = await db.query(
    `SELECT relname, last_analyze, last_autoanalyze, last_vacuum, last_autovacuum, n_dead_tup::int AS dead_rows
       FROM pg_stat_user_tables WHERE relname IN ('notifications', 'delivery_attempts', 'idempotency_keys') ORDER BY relname`,
  );
  return Object.fromEntries(rows.map(({ relname, ...rest }) => [relname, rest]));
}

/**
 * One full measure on a database of its own, seeded afresh. "cold": measured right after the seed,
 * with the tables as the seed left them (statistics and caches as they are, autovacuum free to run);
 * "warm": VACUUM ANALYZE first, as on a platform that has run for a while.
 */
async function measure(mode: 'cold' | 'warm', redisUrl: string): Promise<Record<string, unknown>> {
  const { databaseUrl } = await benchServices(`webhooks_scale_${mode}`);
  await migrateDatabase(databaseUrl);
  const db = new PgPool({ connectionString: databaseUrl, max: 8 });
  const processes: ChildApp[] = [];
  const results: Record<string, unknown> = { mode };
  let worker: Awaited<ReturnType<typeof createWorkerApp>> | undefined;
  let api: Pool | undefined;
  try {
    const receiver = ChildApp.start('receiver', process.execPath, [join(DIST, 'bench/bench/receiver.js')], { ...process.env });
    processes.push(receiver);
    const receiverPort = Number(JSON.parse(await receiver.waitForOutput(/\{"port":\d+\}/)).port);
    // The API logs at warn: its listening line is not printed, so its port is picked here (see freePort).
    const apiPort = await freePort();
    const env = {
      ...benchEnvironment({ apiPort, databaseUrl, redisUrl, queuePrefix: `scale${Date.now().toString(36)}` }),
      SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'warn',
      // The sweep's timer is parked: the sweep below is started by hand and timed. The reconciler keeps its
      // default interval (15 s), so its grace is the default 30 s; a pass by hand waits for the lock if a timer's runs.
      RETENTION_SWEEP_INTERVAL_MS: '86400000',
    };
    const apiProcess = ChildApp.start('api', process.execPath, [join(DIST, 'apps/api/apps/api/src/main.js')], { ...process.env, ...env });
    processes.push(apiProcess);
    api = new Pool(`http://127.0.0.1:${apiPort}`, { connections: INTAKE_CLIENTS + 2 });
    await waitForApi(apiPort, apiProcess);
    const call = async (method: 'POST' | 'PUT', path: string, body: unknown) => {
      const response = await api!.request({
        method,
        path,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return (await response.body.json()) as Record<string, string>;
    };
    const partners: string[] = [];
    for (let i = 0; i < PARTNERS; i++) {
      const { partnerUniqueId } = await call('POST', '/admin/partners', { name: `Scale partner ${i + 1}` });
      await call('PUT', `/${partnerUniqueId}/callbacks/5`, { callbackUrl: `http://127.0.0.1:${receiverPort}/ok/scale-${i + 1}` });
      partners.push(partnerUniqueId);
    }

    log(`seeding ${ROWS.toLocaleString('en')} notifications with generate_series`);
    const seeded = await timed(() => seed(db));
    results.seed = { ...seeded.result, seconds: round(seeded.ms / 1000) };
    log(`${mode}: seeded in ${round(seeded.ms / 1000)} s: ${JSON.stringify(seeded.result)}`);
    if (mode === 'warm') {
      const vacuumed = await timed(() => db.query('VACUUM ANALYZE notifications, delivery_attempts, idempotency_keys'));
      results.vacuumAnalyzeSeconds = round(vacuumed.ms / 1000);
    }
    results.statisticsBeforeMeasuring = await statistics(db);

    const config = loadConfig(env).config;
    worker = await createWorkerApp(config);
    await startWorkerApp(worker, config);
    const passes = worker.get(PeriodicPassRunner);
    const [reconcilerPass, sweepPass] = [worker.get(Reconciler), worker.get(RetentionSweep)];
    const reconciler = { reconcile: () => passes.runOnce(reconcilerPass) };
    const sweep = { sweep: () => passes.runOnce(sweepPass) };

    const [{ old_rule: oldRule }] = (
      await db.query(
        `SELECT count(*)::int AS old_rule FROM notifications WHERE status = 'pending' AND updated_at < now() - interval '30 seconds'`,
      )
    ).rows;
    const pass = async () => {
      for (;;) {
        const measured = await timed(() => reconciler.reconcile());
        if (measured.result) return measured;
        await sleep(50);
      }
    };
    // The scan's SQL alone (its first page, as the reconciler asks it): what a pass costs PostgreSQL.
    const [
      {
        'QUERY PLAN': [plan],
      },
    ] = (
      await db.query(
        `EXPLAIN (ANALYZE, FORMAT JSON) SELECT id, partner_id, notification_type_id, delivery_round, test, next_attempt_at FROM notifications
          WHERE status = 'pending' AND next_attempt_at < now() - interval '30 seconds' AND (next_attempt_at, id) > ('-infinity'::timestamptz, '00000000-0000-0000-0000-000000000000'::uuid)
          ORDER BY next_attempt_at, id LIMIT 500`,
      )
    ).rows as Array<{ 'QUERY PLAN': Array<{ 'Execution Time': number; Plan: { Plans?: Array<{ 'Index Name'?: string }> } }> }>;
    const firstPass = await pass();
    // Once the re-enqueued deliveries are done, nothing is overdue: the steady state.
    const overdueLeft = async () =>
      Number(
        (
          await db.query(
            `SELECT count(*) AS n FROM notifications WHERE status = 'pending' AND next_attempt_at < now() - interval '30 seconds'`,
          )
        ).rows[0].n,
      );
    for (let waited = 0; (await overdueLeft()) > 0 && waited < 120; waited++) await sleep(1_000);
    const steadyPass = await pass();
    results.reconciler = {
      scanSqlFirstPageMs: plan['Execution Time'],
      scanIndex: plan.Plan.Plans?.[0]?.['Index Name'] ?? null,
      firstPassMs: firstPass.ms,
      firstPass: firstPass.result,
      steadyPassMs: steadyPass.ms,
      steadyPass: steadyPass.result,
      rowsThePreviousRuleLookedUpInRedis: oldRule,
    };
    log(
      `reconciler: scan SQL ${plan['Execution Time']} ms; pass ${firstPass.ms} ms for ${JSON.stringify(firstPass.result)}; steady pass ${steadyPass.ms} ms for ${JSON.stringify(steadyPass.result)} (the previous rule looked up ${oldRule} rows in Redis)`,
    );

    // Intake at rest before and after the sweep, and while it runs.
    const rest = async () => intakeWhile(api!, partners, sleep(REST_SECONDS * 1000));
    log(`intake: ${INTAKE_CLIENTS} clients, ${REST_SECONDS} s at rest, during the sweep, ${REST_SECONDS} s at rest`);
    const before = await rest();
    const sweepRun = timed(() => sweep.sweep());
    const duringSweep = latencySummary(await intakeWhile(api, partners, sweepRun));
    const swept = await sweepRun;
    const after = await rest();
    const atRest = latencySummary([...before, ...after]);
    const idleSweep = await timed(() => sweep.sweep());
    const { startedAt: _startedAt, olderThan: _olderThan, ...sweepReport } = swept.result ?? { startedAt: null, olderThan: null };
    results.sweep = { ms: swept.ms, report: sweepReport, nextSweepMs: idleSweep.ms, nextSweepDeleted: idleSweep.result?.notifications };
    results.intake = { atRest, restBefore: latencySummary(before), restAfter: latencySummary(after), duringSweep };
    log(`sweep: ${swept.ms} ms, ${JSON.stringify(sweepReport)}; the next (nothing to delete) ${idleSweep.ms} ms`);
    log(
      `intake p99 at rest ${atRest.p99} ms (${atRest.requests} requests), during the sweep ${duringSweep.p99} ms (${duringSweep.requests})`,
    );

    if (mode === 'warm') {
      log('write cost of ix_notifications_retention: the update of a delivery, with and without it');
      results.retentionIndexWriteCost = await retentionIndexWriteCost(db);
      log(JSON.stringify(results.retentionIndexWriteCost));
    }

    log(`${mode}: ${JSON.stringify({ reconciler: results.reconciler, sweep: results.sweep })}`);
    return results;
  } finally {
    await worker?.close();
    await api?.close();
    await db.end();
    await Promise.all(processes.map((child) => child.stop()));
    await dropDatabase(databaseUrl);
  }
}

async function main(): Promise<void> {
  const { redisUrl } = await benchServices('webhooks_scale');
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadAverageAtStart: loadavg() },
    settings: { rows: ROWS, bands: { ...BANDS, pendingSoon: SOON }, intakeClients: INTAKE_CLIENTS, retentionPeriod: '30d' },
  };
  // Cold first: a fresh seed, measured as it is; then warm, on a second database seeded the same way.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the figures measure() wrote
  const runs: Record<string, any> = {};
  for (const mode of ['cold', 'warm'] as const) runs[mode] = results[mode] = await measure(mode, redisUrl);
  results.machine = { ...(results.machine as object), loadAverageAtEnd: loadavg() };
  const row = (pick: (run: (typeof runs)['cold']) => unknown) => ({ cold: pick(runs.cold), warm: pick(runs.warm) });
  console.table({
    'reconciler scan SQL, first page (ms)': row((run) => run.reconciler.scanSqlFirstPageMs),
    'reconciler pass, 1,000 overdue (ms)': row((run) => run.reconciler.firstPassMs),
    'reconciler pass, none overdue (ms)': row((run) => run.reconciler.steadyPassMs),
    'retention sweep (ms)': row((run) => run.sweep.ms),
    'rows swept': row((run) => run.sweep.report.notifications),
    'intake p99 at rest (ms)': row((run) => run.intake.atRest.p99),
    'intake p99 during sweep (ms)': row((run) => run.intake.duringSweep.p99),
  });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const file = join(ROOT, `bench/results/scale-${stamp}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${file}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
