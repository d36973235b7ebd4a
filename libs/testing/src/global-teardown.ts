import Redis from 'ioredis';
import { withMaintenanceClient } from '../../persistence/src/database-setup';
import { currentRunId, runDatabasePrefix, serviceUrls } from './test-run';

/** Drops every database and deletes every Redis key this run made. */
export default async function globalTeardown(): Promise<void> {
  const runId = process.env.CALLBACKS_TEST_RUN ? currentRunId() : null;
  if (!runId) return;
  const { databaseUrl, redisUrl } = serviceUrls();
  await withMaintenanceClient(databaseUrl, async (client) => {
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [
      runDatabasePrefix(runId),
    ]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  });
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `{cbt_${runId}_*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
