/**
 * Set-up shared by the benchmarks (bench/run.ts, bench/data-scale.ts): the
 * paths of the built apps, the operator key, a fresh database name, and waiting for the API.
 */
import { join } from 'node:path';
import { checkServices, DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from '@callbacks/config';
import type { ChildApp } from '@callbacks/testing';

export const ROOT = join(__dirname, '..', '..', '..');
export const DIST = join(ROOT, 'dist');
export const BENCH_ADMIN_KEY = 'bench-operator-key-0123456789';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The services' URLs, with a database of its own for this run (`<name>_<now>`); exits when a service is down. */
export async function benchServices(name: string): Promise<{ databaseUrl: string; redisUrl: string }> {
  const databaseBase = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const redisUrl = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  const unreachable = await checkServices({ databaseUrl: databaseBase, redisUrl });
  if (unreachable.length > 0) {
    console.error(unreachable.join('\n'));
    process.exit(1);
  }
  const databaseUrl = new URL(databaseBase);
  databaseUrl.pathname = `/${name}_${Date.now()}`;
  return { databaseUrl: databaseUrl.toString(), redisUrl };
}

/** The apps' environment on this machine: local receivers allowed, quiet logs, the bench's operator key. */
export function benchEnvironment(run: {
  apiPort: number;
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
}): Record<string, string> {
  return {
    NODE_ENV: 'development',
    PORT: String(run.apiPort),
    WORKER_PORT: '0',
    DATABASE_URL: run.databaseUrl,
    REDIS_URL: run.redisUrl,
    QUEUE_PREFIX: run.queuePrefix,
    ADMIN_API_KEY: BENCH_ADMIN_KEY,
    ALLOW_INSECURE_CALLBACKS: 'true',
    LOG_LEVEL: 'warn',
  };
}

/** Resolves once the API answers /health/ready; throws with its output after `timeoutMs`. */
export async function waitForApi(port: number, api: ChildApp, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => null);
    if (ready?.ok) return;
    if (Date.now() > deadline) throw new Error(`API not ready:\n${api.output.slice(-2_000)}`);
    await sleep(100);
  }
}
