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

/** The ports the kernel hands out for outgoing connections (net.ipv4.ip_local_port_range); 32768–60999 when unreadable. */
function ephemeralPorts(): { low: number; high: number } {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low > 0 && high >= low) return { low, high };
  } catch {
    // not Linux: the usual range
  }
  return { low: 32768, high: 60999 };
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port for a process to bind (a worker's health port, a Redis node), when the process cannot
 * bind port 0 and say which it got (the API can: start it with PORT=0 and read its listening line).
 * Chosen at random below the kernel's ephemeral range, so no outgoing connection of any process can
 * take it between this check and the bind; only another test picking the same port at random could.
 */
export async function freePort(): Promise<number> {
  const { low } = ephemeralPorts();
  const floor = Math.min(10_000, low - 1_000);
  for (let tries = 0; tries < 100; tries++) {
    const port = floor + Math.floor(Math.random() * (low - floor));
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port found between ${floor} and ${low}`);
}

/** The port a built API reports in its "API listening on port N" line (started with PORT=0 to take any free one). */
export async function listeningPort(app: ChildApp, timeoutMs = 60_000): Promise<number> {
  const line = await app.waitForOutput(/API listening on port \d+/, timeoutMs);
  return Number(/(\d+)$/.exec(line)![1]);
}
