import { randomBytes } from 'node:crypto';
// Relative, not @callbacks/config: jest's global setup runs outside its module mapper.
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from '../../config/src/config';

/**
 * Every `npm test` run gets its own id; each test file gets its own database (cloned from a
 * migrated template) and its own queue prefix, so runs and files never see each other's data.
 */
export const TEST_RUN_VARIABLE = 'CALLBACKS_TEST_RUN';

export function serviceUrls(): { databaseUrl: string; redisUrl: string } {
  return {
    databaseUrl: process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
    redisUrl: process.env.REDIS_URL ?? DEFAULT_REDIS_URL,
  };
}

export function currentRunId(): string {
  const runId = process.env[TEST_RUN_VARIABLE];
  if (!runId) throw new Error(`${TEST_RUN_VARIABLE} is not set: run these tests through jest (its global setup sets it)`);
  return runId;
}

export function newRunId(): string {
  return `r${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export function databaseUrlNamed(name: string): string {
  const url = new URL(serviceUrls().databaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Database names of a run: "cbt_<run>_tpl" for the template, "cbt_<run>_<file>" per test file. */
export function runDatabasePrefix(runId: string): string {
  return `cbt_${runId}_`;
}

export function templateDatabaseName(runId: string): string {
  return `${runDatabasePrefix(runId)}tpl`;
}

export function runQueuePrefix(runId: string, suffix: string): string {
  return `{cbt_${runId}_${suffix}}`;
}
