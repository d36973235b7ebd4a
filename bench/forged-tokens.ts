import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { Pool } from 'undici';
import { summarize } from './measures';
import type { BenchContext, BenchPhase } from './run';
import { sleep } from './support';

/** The attack of issue 18: this many connections sending random bearer tokens, as fast as the API answers. */
const ATTACK = { connections: 50, seconds: 30 };
/** Beside it, one partner's events at this rate (the row compares its p99 with the same run alone). */
const PARTNER_PER_SECOND = 100;
/** A backend reports its statistics when idle, at most once a second and within about 10 s. */
const STATS_SETTLE_MS = 11_000;

/** The tables a credential check could read: a forged token that reached PostgreSQL would show here. */
const CREDENTIAL_TABLES = ['api_keys', 'portal_links', 'portal_sessions', 'partners'];

interface DatabaseActivity {
  /** Commits and rollbacks of the bench's database (pg_stat_database): the worker's passes and autovacuum's visits count too. */
  transactions: number;
  /** Scans (sequential and index) of CREDENTIAL_TABLES (pg_stat_user_tables): only credential checks read them here. */
  credentialTableScans: number;
}

/** The bench database's activity so far, read over a connection of its own (reading statistics scans no table). */
async function databaseActivity(databaseUrl: string): Promise<DatabaseActivity> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ transactions: string; scans: string }>(
      `SELECT (SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()) AS transactions,
              (SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0) FROM pg_stat_user_tables WHERE relname = ANY($1)) AS scans`,
      [CREDENTIAL_TABLES],
    );
    // This connection's own transaction is reported only when it ends: it is not in what it read.
    return { transactions: Number(rows[0].transactions), credentialTableScans: Number(rows[0].scans) };
  } finally {
    await client.end();
  }
}

/** The database's activity during `during`, each end measured after the statistics settle. */
async function activityDuring(ctx: BenchContext, during: () => Promise<unknown>): Promise<DatabaseActivity> {
  await sleep(STATS_SETTLE_MS);
  const before = await databaseActivity(ctx.env.DATABASE_URL);
  await during();
  await sleep(STATS_SETTLE_MS);
  const after = await databaseActivity(ctx.env.DATABASE_URL);
  return {
    transactions: after.transactions - before.transactions,
    credentialTableScans: after.credentialTableScans - before.credentialTableScans,
  };
}

/**
 * ATTACK.connections clients, each sending GET /{partner}/callbacks with a new random bearer token
 * (half shaped like our keys, half like the previous release's) from a new X-Forwarded-For address
 * (the API trusts loopback as its proxy here), so the per-address limit never steps in: every
 * request takes the MAC check. Returns the answers by status.
 */
async function attack(apiUrl: string, partnerId: string, seconds: number): Promise<Record<number, number>> {
  const pool = new Pool(apiUrl, { connections: ATTACK.connections, pipelining: 1 });
  const statuses: Record<number, number> = {};
  const until = Date.now() + seconds * 1000;
  let sent = 0;
  try {
    await Promise.all(
      Array.from({ length: ATTACK.connections }, async () => {
        while (Date.now() < until) {
          const n = sent++;
          const token = `pck_${randomBytes(n % 2 === 0 ? 48 : 32).toString('base64url')}`;
          const response = await pool.request({
            method: 'GET',
            path: `/${partnerId}/callbacks`,
            headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` },
          });
          await response.body.dump();
          statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
        }
      }),
    );
  } finally {
    await pool.close();
  }
  return statuses;
}

/**
 * Issue 18's bench row: random bearer tokens from ATTACK.connections connections for ATTACK.seconds.
 * Reports the database activity they cause (forged-only window minus an idle window of the same
 * length: the worker's own periodic passes run in both): transactions, and scans of the tables a
 * credential check reads (which nothing else here reads; the old-format keys' hashes, read once a
 * minute when such keys arrive, are one), and one partner's delivery latency at
 * PARTNER_PER_SECOND alone and under the attack (p99 goal: within 2x).
 */
export const forgedTokensPhase: BenchPhase = {
  name: 'forgedTokens',
  async run(ctx) {
    const { bench, log } = ctx;
    const apiUrl = `http://127.0.0.1:${ctx.env.PORT}`;
    const partner = ctx.partners[0];
    const [worker] = ctx.startWorkers(1);
    try {
      log(`forged tokens: one partner at ${PARTNER_PER_SECOND}/s for ${ATTACK.seconds} s, alone`);
      await bench.resetReceiver();
      const alone = await bench.publishAtRate([partner], PARTNER_PER_SECOND, ATTACK.seconds);
      await bench.waitForUnique(alone.length, 120_000);
      const aloneLatency = summarize(bench.latencies(alone, await bench.receipts()));

      log(`forged tokens: ${ATTACK.connections} connections of random bearer tokens for ${ATTACK.seconds} s; database activity`);
      const idle = await activityDuring(ctx, () => sleep(ATTACK.seconds * 1000));
      let forgedStatuses: Record<number, number> = {};
      const forged = await activityDuring(ctx, async () => {
        forgedStatuses = await attack(apiUrl, partner, ATTACK.seconds);
      });

      log(`forged tokens: the partner at ${PARTNER_PER_SECOND}/s under the attack`);
      await bench.resetReceiver();
      const [underAttack, attackStatuses] = await Promise.all([
        bench.publishAtRate([partner], PARTNER_PER_SECOND, ATTACK.seconds),
        attack(apiUrl, partner, ATTACK.seconds),
      ]);
      await bench.waitForUnique(underAttack.length, 120_000);
      const attackLatency = summarize(bench.latencies(underAttack, await bench.receipts()));
      const forgedRequests = Object.values(forgedStatuses).reduce((sum, n) => sum + n, 0);
      ctx.results.forgedTokens = {
        connections: ATTACK.connections,
        seconds: ATTACK.seconds,
        forgedRequests,
        forgedPerSecond: forgedRequests / ATTACK.seconds,
        forgedStatuses,
        attackStatusesBesidePartner: attackStatuses,
        databaseTransactions: {
          idleWindow: idle.transactions,
          forgedWindow: forged.transactions,
          causedByForged: forged.transactions - idle.transactions,
        },
        credentialTableScans: {
          idleWindow: idle.credentialTableScans,
          forgedWindow: forged.credentialTableScans,
          causedByForged: forged.credentialTableScans - idle.credentialTableScans,
        },
        partnerLatencyMs: { alone: aloneLatency, underAttack: attackLatency },
        p99Ratio: attackLatency.p99 / aloneLatency.p99,
      };
      log(`forged tokens: ${JSON.stringify(ctx.results.forgedTokens)}`);
    } finally {
      await worker.stop('SIGTERM', 20_000);
    }
  },
};
