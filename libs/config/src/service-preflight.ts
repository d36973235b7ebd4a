import { connect } from 'node:net';

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
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || defaultPort);
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

/**
 * Checks that PostgreSQL and Redis accept connections. Returns one line per unreachable service,
 * naming the URL tried and how to start it; [] when both answer.
 */
export async function checkServices(urls: { databaseUrl: string; redisUrl: string }, timeoutMs = 2_000): Promise<string[]> {
  const services = [
    { name: 'PostgreSQL', url: urls.databaseUrl, port: 5432, compose: 'postgres' },
    { name: 'Redis', url: urls.redisUrl, port: 6379, compose: 'redis' },
  ];
  const problems = await Promise.all(services.map((service) => reachable(service.url, service.port, timeoutMs)));
  return services.flatMap((service, index) => {
    const problem = problems[index];
    return problem === null
      ? []
      : [`${service.name} is not reachable at ${redactUrl(service.url)} (${problem}); start it with: docker compose -f docker-compose.dev.yml up -d ${service.compose}`];
  });
}
