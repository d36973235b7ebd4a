import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Environment } from '@callbacks/config';
import { ChildApp } from '@callbacks/testing';

const root = join(__dirname, '..', '..');
export const BUILT_WORKER = join(root, 'dist/apps/worker/apps/worker/src/main.js');
export const BUILT_API = join(root, 'dist/apps/api/apps/api/src/main.js');

/** A built app as its own process, as in production (`npm test` builds first), with only `env` (and PATH). */
export function startBuiltApp(entry: string, env: Environment): ChildApp {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run npm run build first (npm test does)`);
  return ChildApp.start(entry.includes('worker') ? 'worker' : 'api', process.execPath, [entry], { PATH: process.env.PATH, ...env });
}
