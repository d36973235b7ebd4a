import { randomBytes } from 'node:crypto';
import { loadConfig, type AppConfig, type Environment } from '@callbacks/config';
import { dropDatabase, ensureDatabase } from '@callbacks/persistence';
import { currentRunId, databaseUrlNamed, runDatabasePrefix, runQueuePrefix, serviceUrls, templateDatabaseName } from './test-run';

export const TEST_ADMIN_API_KEY = 'test-operator-key-0123456789';

export interface TestEnvironment {
  /** The environment variables a process of this test would be started with. */
  env: Environment;
  config: AppConfig;
  databaseUrl: string;
  queuePrefix: string;
  /** Drops the database (Redis keys go at the end of the run). */
  destroy(): Promise<void>;
}

/**
 * A fresh database (migrated, empty) and queue prefix for one test file. `overrides` are
 * environment variables on top of the test defaults (operator key set, quiet logs, fast retries).
 */
export async function createTestEnvironment(overrides: Environment = {}): Promise<TestEnvironment> {
  const runId = currentRunId();
  const suffix = randomBytes(4).toString('hex');
  const databaseUrl = databaseUrlNamed(`${runDatabasePrefix(runId)}${suffix}`);
  await ensureDatabase(databaseUrl, templateDatabaseName(runId));
  const queuePrefix = runQueuePrefix(runId, suffix);
  const env: Environment = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: serviceUrls().redisUrl,
    QUEUE_PREFIX: queuePrefix,
    ADMIN_API_KEY: TEST_ADMIN_API_KEY,
    SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    PORT: '0',
    WORKER_PORT: '0',
    ...overrides,
  };
  return {
    env,
    config: loadConfig(env).config,
    databaseUrl,
    queuePrefix,
    destroy: () => dropDatabase(databaseUrl),
  };
}
