import { createServer, type Server } from 'node:net';
import { checkServices } from './service-preflight';

function listen(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.destroy());
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })),
  );
}

describe('checkServices in Redis Cluster mode', () => {
  let database: { server: Server; port: number };
  let node: { server: Server; port: number };
  let closedPort: number;

  beforeAll(async () => {
    [database, node] = [await listen(), await listen()];
    const closed = await listen();
    closedPort = closed.port;
    await new Promise((resolve) => closed.server.close(resolve));
  });
  afterAll(() => Promise.all([database, node].map(({ server }) => new Promise((resolve) => server.close(resolve)))));

  const urls = (redisClusterNodes: Array<{ host: string; port: number }>) => ({
    databaseUrl: `postgres://u@127.0.0.1:${database.port}/x`,
    redisUrl: `redis://127.0.0.1:${closedPort}`, // not used in cluster mode
    redisClusterNodes,
  });

  it('passes when one seed node answers, whatever REDIS_URL says', async () => {
    expect(
      await checkServices(
        urls([
          { host: '127.0.0.1', port: closedPort },
          { host: '127.0.0.1', port: node.port },
        ]),
      ),
    ).toEqual([]);
  });

  it('names REDIS_CLUSTER_NODES and every node tried when none answers', async () => {
    const problems = await checkServices(urls([{ host: '127.0.0.1', port: closedPort }]));
    expect(problems).toEqual([`no Redis Cluster node of REDIS_CLUSTER_NODES is reachable: 127.0.0.1:${closedPort} (ECONNREFUSED)`]);
  });
});
