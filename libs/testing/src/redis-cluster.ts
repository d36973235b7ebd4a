import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ChildApp, freePort } from './child-app';
import { waitUntil } from './wait-until';

const run = promisify(execFile);

/** redis-cli's output, or its error output in the exception when it fails. */
async function redisCli(args: string[]): Promise<string> {
  try {
    return (await run('redis-cli', args, { timeout: 30_000 })).stdout;
  } catch (error) {
    const { stdout, stderr, message } = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`redis-cli ${args.join(' ')} failed: ${message}\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

export interface ClusterNodeAddress {
  host: string;
  port: number;
}

/**
 * A throwaway Redis Cluster of `masters` nodes on loopback (no replicas, no persistence), the way
 * `redis-cli --cluster create` builds one: each master owns an equal range of the 16,384 slots.
 * Needs redis-server and redis-cli on the PATH.
 */
export class LocalRedisCluster {
  private constructor(
    readonly nodes: ClusterNodeAddress[],
    private readonly servers: ChildApp[],
    private readonly directory: string,
  ) {}

  /** "127.0.0.1:P1,127.0.0.1:P2,…": the value for REDIS_CLUSTER_NODES. */
  get nodesVariable(): string {
    return this.nodes.map((node) => `${node.host}:${node.port}`).join(',');
  }

  static async start(masters = 3): Promise<LocalRedisCluster> {
    const directory = await mkdtemp(join(tmpdir(), 'callbacks-redis-cluster-'));
    const servers: ChildApp[] = [];
    const nodes: ClusterNodeAddress[] = [];
    const cluster = new LocalRedisCluster(nodes, servers, directory);
    try {
      for (let i = 0; i < masters; i++) {
        const port = await freePort();
        nodes.push({ host: '127.0.0.1', port });
        // The bus port is set too: its default, port + 10,000, is past 65,535 for high ephemeral ports.
        const server = ChildApp.start(
          `redis-server:${port}`,
          'redis-server',
          [
            '--port',
            String(port),
            '--cluster-port',
            String(await freePort()),
            '--bind',
            '127.0.0.1',
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(directory, `nodes-${port}.conf`),
            '--save',
            '',
            '--appendonly',
            'no',
            '--dir',
            directory,
          ],
          { PATH: process.env.PATH },
        );
        servers.push(server);
        await server.waitForOutput('Ready to accept connections', 10_000);
      }
      await redisCli([
        '--cluster',
        'create',
        ...nodes.map((node) => `${node.host}:${node.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ]);
      await waitUntil(
        async () => {
          const states = await Promise.all(nodes.map((node) => redisCli(['-h', node.host, '-p', String(node.port), 'cluster', 'info'])));
          return states.every((info) => info.includes('cluster_state:ok'));
        },
        30_000,
        'the Redis Cluster to report cluster_state:ok on every node',
      );
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** The keys matching `pattern` that one node holds (SCAN on that node alone). */
  async keysOn(node: ClusterNodeAddress, pattern: string): Promise<string[]> {
    const output = await redisCli(['-h', node.host, '-p', String(node.port), '--scan', '--pattern', pattern]);
    return output.split('\n').filter(Boolean);
  }

  /** Deletes every key on every node (FLUSHALL on each master). */
  async flushAll(): Promise<void> {
    await Promise.all(this.nodes.map((node) => redisCli(['-h', node.host, '-p', String(node.port), 'flushall'])));
  }

  /** Stops the servers and removes their directory. */
  async stop(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.stop('SIGTERM', 5_000)));
    await rm(this.directory, { recursive: true, force: true });
  }
}
