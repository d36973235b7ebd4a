import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export type ChildEnvironment = Record<string, string | undefined>;

/**
 * A program running as its own process (a built app, redis-server, the bench receiver), with its
 * output kept for assertions and diagnostics. Used by the system tests, the fault run and the bench.
 */
export class ChildApp {
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /**
   * `env` is the whole environment of the child: pass process.env explicitly to inherit it.
   * `detached` makes the child lead a process group of its own, as a shell does for a foreground
   * command, so a test can signal the whole group (`process.kill(-pid, …)`, what Ctrl-C does).
   */
  static start(
    name: string,
    command: string,
    args: string[],
    env: ChildEnvironment,
    options: { cwd?: string; detached?: boolean } = {},
  ): ChildApp {
    return new ChildApp(name, spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], ...options }));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first match of `text` in the output; throws if the process exits first. */
  async waitForOutput(text: string | RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = typeof text === 'string' ? (this.output.includes(text) ? text : undefined) : text.exec(this.output)?.[0];
      if (match !== undefined) return match;
      if (!this.running) throw new Error(`${this.name} exited before printing "${text}":\n${this.output.slice(-2_000)}`);
      if (Date.now() > deadline)
        throw new Error(`${this.name}: "${text}" not printed within ${timeoutMs} ms:\n${this.output.slice(-2_000)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** Sends `signal` and waits up to `graceMs` for the exit, then kills. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000): Promise<void> {
    if (!this.running) return;
    this.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]).finally(() => clearTimeout(timer));
    this.kill('SIGKILL');
  }

  /** Resident memory in MB, from /proc (NaN once the process is gone). */
  rssMb(): number {
    try {
      return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
    } catch {
      return NaN;
    }
  }
}

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
