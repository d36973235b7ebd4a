import { connect } from 'node:net';
import type { RedisNode } from './config';

/** The URL with its password hidden, for messages and logs. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '<unparseable URL>';
  }
}

function reachable(raw: string, defaultPort: number, timeoutMs: number): Promise<string | null> {
  const url = new URL(raw);
  return reachableAt(url.hostname.replace(/^\[(.*)\]$/, '$1'), Number(url.port || defaultPort), timeoutMs);
}

function reachableAt(host: string, port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (problem: string | null) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(timeoutMs, () => finish(`no answer within ${timeoutMs} ms`));
    socket.once('connect', () => finish(null));
    socket.once('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
  });
}

/** A cluster starts when any one seed node answers (it tells the client about the others). */
async function clusterReachable(nodes: RedisNode[], timeoutMs: number): Promise<string[]> {
  const problems = await Promise.all(nodes.map((node) => reachableAt(node.host, node.port, timeoutMs)));
  if (problems.some((problem) => problem === null)) return [];
  const tried = nodes.map((node, index) => `${node.host}:${node.port} (${problems[index]})`).join(', ');
  return [`no Redis Cluster node of REDIS_CLUSTER_NODES is reachable: ${tried}`];
}

/**
 * Checks that PostgreSQL and Redis (or one seed node of the Redis Cluster) accept connections.
 * Returns one line per unreachable service, naming the URL tried and how to start it; [] when both answer.
 */
export async function checkServices(
  urls: { databaseUrl: string; redisUrl: string; redisClusterNodes?: RedisNode[] | null },
  timeoutMs = 2_000,
): Promise<string[]> {
  const services = [
    { name: 'PostgreSQL', url: urls.databaseUrl, port: 5432, compose: 'postgres' },
    ...(urls.redisClusterNodes ? [] : [{ name: 'Redis', url: urls.redisUrl, port: 6379, compose: 'redis' }]),
  ];
  const [problems, cluster] = await Promise.all([
    Promise.all(services.map((service) => reachable(service.url, service.port, timeoutMs))),
    urls.redisClusterNodes ? clusterReachable(urls.redisClusterNodes, timeoutMs) : [],
  ]);
  return services
    .flatMap((service, index) => {
      const problem = problems[index];
      return problem === null
        ? []
        : [
            `${service.name} is not reachable at ${redactUrl(service.url)} (${problem}); start it with: docker compose -f docker-compose.dev.yml up -d ${service.compose}`,
          ];
    })
    .concat(cluster);
}
