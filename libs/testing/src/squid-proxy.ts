import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildApp, freePort } from './child-app';
import { waitUntil } from './wait-until';

export const SQUID_BINARY = '/usr/sbin/squid';
const BASIC_AUTH_HELPER = '/usr/lib/squid/basic_ncsa_auth';

/**
 * Debian's Squid as a throwaway egress proxy on loopback (`apt-get install -y squid`). Debian's own
 * config refuses CONNECT to ports other than 443 and to localhost; this one allows any CONNECT from
 * loopback, optionally behind Basic proxy authentication, and logs to a folder of its own that the
 * `proxy` user Squid drops to can write. Squid writes a tunnel's log line when the tunnel closes.
 */
export class SquidProxy {
  private constructor(
    readonly port: number,
    private readonly directory: string,
    private readonly process: ChildApp,
  ) {}

  static available(): boolean {
    return existsSync(SQUID_BINARY);
  }

  static async start(options: { user?: string; password?: string } = {}): Promise<SquidProxy> {
    const directory = mkdtempSync(join(tmpdir(), 'callbacks-squid-'));
    chmodSync(directory, 0o777);
    const port = await freePort();
    const auth = options.user !== undefined && options.password !== undefined;
    if (auth) {
      const hash = execFileSync('openssl', ['passwd', '-apr1', options.password!], { encoding: 'utf8' }).trim();
      writeFileSync(join(directory, 'passwd'), `${options.user}:${hash}\n`, { mode: 0o644 });
    }
    const config = [
      `http_port 127.0.0.1:${port}`,
      'acl loopback_clients src 127.0.0.0/8',
      ...(auth
        ? [
            `auth_param basic program ${BASIC_AUTH_HELPER} ${join(directory, 'passwd')}`,
            'auth_param basic realm callbacks-test',
            'acl authenticated proxy_auth REQUIRED',
            'http_access allow loopback_clients authenticated',
          ]
        : ['http_access allow loopback_clients']),
      'http_access deny all',
      `access_log stdio:${join(directory, 'access.log')} squid`,
      `cache_log ${join(directory, 'cache.log')}`,
      `pid_filename ${join(directory, 'squid.pid')}`,
      `coredump_dir ${directory}`,
      'cache deny all',
      'cache_mem 8 MB',
      'pinger_enable off',
      'netdb_filename none',
      'shutdown_lifetime 0 seconds',
    ].join('\n');
    writeFileSync(join(directory, 'squid.conf'), `${config}\n`, { mode: 0o644 });
    const process = ChildApp.start('squid', SQUID_BINARY, ['-N', '-f', join(directory, 'squid.conf')], { PATH: '/usr/sbin:/usr/bin:/bin' });
    const proxy = new SquidProxy(port, directory, process);
    await waitUntil(() => proxy.cacheLog().includes('Accepting HTTP Socket connections') || !process.running, 30_000, 'squid to listen');
    if (!process.running) throw new Error(`squid exited at start:\n${process.output}\n${proxy.cacheLog()}`);
    return proxy;
  }

  /** http://127.0.0.1:port, or with credentials in it. */
  url(credentials?: { user: string; password: string }): string {
    const userinfo = credentials ? `${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@` : '';
    return `http://${userinfo}127.0.0.1:${this.port}`;
  }

  accessLog(): string {
    const path = join(this.directory, 'access.log');
    return existsSync(path) ? readFileSync(path, 'utf8') : '';
  }

  /** The request target of every CONNECT in the access log ("127.0.0.1:8443"), with Squid's result ("TCP_TUNNEL/200"). */
  connects(): Array<{ target: string; result: string }> {
    return this.accessLog()
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields[5] === 'CONNECT')
      .map((fields) => ({ target: fields[6], result: fields[3] }));
  }

  private cacheLog(): string {
    const path = join(this.directory, 'cache.log');
    return existsSync(path) ? readFileSync(path, 'utf8') : '';
  }

  async stop(): Promise<void> {
    await this.process.stop('SIGTERM', 10_000);
    rmSync(this.directory, { recursive: true, force: true });
  }
}
