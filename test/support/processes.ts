import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Environment } from '@callbacks/config';

const root = join(__dirname, '..', '..');
export const BUILT_WORKER = join(root, 'dist/apps/worker/apps/worker/src/main.js');
export const BUILT_API = join(root, 'dist/apps/api/apps/api/src/main.js');

/** A built app running as its own process, as in production (`npm test` builds first). */
export class AppProcess {
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static start(entry: string, env: Environment): AppProcess {
    if (!existsSync(entry)) throw new Error(`${entry} is missing: run npm run build first (npm test does)`);
    return new AppProcess(spawn(process.execPath, [entry], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  /** Resolves when a log line contains `text`. */
  async waitForOutput(text: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.output.includes(text)) {
      if (this.child.exitCode !== null) throw new Error(`process exited before printing "${text}":\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`"${text}" not printed within ${timeoutMs} ms:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null) this.child.kill(signal);
  }
}
