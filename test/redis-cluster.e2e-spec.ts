import { callbackKeys, callbackShard, queueShards } from '@callbacks/queue';
import { LocalRedisCluster, TEST_ADMIN_API_KEY, TestReceiver, waitUntil } from '@callbacks/testing';
import { BUILT_WORKER, startBuiltApp } from './support/processes';
import { ADMIN, type Partner, TestSystem } from './support/system';

const SHARDS = 3;
const TYPES = [5, 6, 7];

/**
 * The whole system on a real 3-master Redis Cluster (started here with redis-server and
 * `redis-cli --cluster create`), with QUEUE_SHARDS=3: each shard's queue and its callbacks'
 * isolation keys sit on their own master.
 */
describe('on a 3-master Redis Cluster with 3 queue shards', () => {
  let cluster: LocalRedisCluster;
  let system: TestSystem;
  let receiver: TestReceiver;
  let partners: Partner[];

  const settings = () => system.environment.config;
  const shardOf = (partner: Partner, notificationTypeId: number) =>
    callbackShard(settings(), partner.partnerUniqueId, notificationTypeId).index;
  const publish = (partner: Partner, notificationTypeId: number, n: number) =>
    system.http
      .post('/v1/notifications')
      .set(ADMIN)
      .send({ partnerUniqueId: partner.partnerUniqueId, notificationTypeId, payload: { processUniqueId: `p-${n}` } })
      .expect(202);
  /** Publishes `perCallback` notifications to every callback of every partner; returns their ids. */
  const publishToAll = async (perCallback: number): Promise<string[]> => {
    const responses = await Promise.all(
      partners.flatMap((partner) => TYPES.flatMap((type) => Array.from({ length: perCallback }, (_, n) => publish(partner, type, n)))),
    );
    return responses.map((response) => response.body.notificationId as string);
  };
  const statusCounts = async (): Promise<Record<string, number>> => {
    const rows = (await system.dataSource.query('SELECT status, count(*)::int AS n FROM notifications GROUP BY status')) as Array<{
      status: string;
      n: number;
    }>;
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  };

  beforeAll(async () => {
    cluster = await LocalRedisCluster.start(3);
    system = await TestSystem.start({ REDIS_CLUSTER_NODES: cluster.nodesVariable, QUEUE_SHARDS: String(SHARDS) });
    receiver = await TestReceiver.start();
    // At least 4 partners (12 callbacks), and more until their callbacks use every shard.
    partners = [];
    const used = new Set<number>();
    while (partners.length < 4 || (used.size < SHARDS && partners.length < 20)) {
      const partner = await system.createPartner(`Cluster Partner ${partners.length}`);
      for (const type of TYPES) {
        await system.registerCallback(partner, type, `${receiver.url}/${partners.length}/${type}`);
        used.add(shardOf(partner, type));
      }
      partners.push(partner);
    }
    expect(used.size).toBe(SHARDS);
  }, 90_000);

  afterAll(async () => {
    await receiver?.close();
    await system?.close();
    await cluster?.stop();
  }, 60_000);

  it('delivers to every callback, each shard’s queue on its own master', async () => {
    const ids = await publishToAll(2);
    await receiver.waitFor(ids.length, 20_000);
    await waitUntil(async () => (await statusCounts()).delivered === ids.length, 10_000, 'all delivered');
    expect(new Set(receiver.requests.map((request) => request.headers['webhook-id']))).toEqual(new Set(ids));

    const masterOfShard = await Promise.all(
      queueShards(settings()).map(async (shard) => {
        const holders = [];
        for (const node of cluster.nodes)
          if ((await cluster.keysOn(node, `${shard.prefix}:${shard.queueName}:*`)).length > 0) holders.push(node.port);
        return holders;
      }),
    );
    for (const holders of masterOfShard) expect(holders).toHaveLength(1);
    expect(new Set(masterOfShard.map(([port]) => port)).size).toBe(SHARDS);

    // Partner routes went through the rate limiter, whose counters live in the cluster too.
    await system.http.get(`/${partners[0].partnerUniqueId}/callbacks/5`).set(partners[0].auth).expect(200);
    const counters = await Promise.all(cluster.nodes.map((node) => cluster.keysOn(node, `${system.environment.queuePrefix}:ratelimit:*`)));
    expect(counters.flat().length).toBeGreaterThan(0);
  });

  it('retries a 500 and delivers on the next attempt', async () => {
    const [partner] = partners;
    receiver.replyWith({ status: 500, body: 'boom' }, 200);
    const { body } = await publish(partner, 6, 1);
    const detail = await system.waitForStatus(partner, body.notificationId, 'delivered');
    expect(detail.attempts.map((attempt) => attempt.statusCode)).toEqual([500, 200]);
    expect(receiver.deliveriesOf(body.notificationId)).toHaveLength(2);
  });

  it('keeps each callback’s circuit in its shard: failures show in the health of callbacks on different shards', async () => {
    const partner = partners.find((candidate) => new Set(TYPES.map((type) => shardOf(candidate, type))).size > 1) ?? partners[0];
    receiver.replyAlways(503);
    try {
      const ids = await Promise.all(TYPES.map(async (type) => (await publish(partner, type, 2)).body.notificationId as string));
      for (const id of ids) await system.waitForStatus(partner, id, 'failed');
    } finally {
      receiver.replyAlways(200);
    }
    const { body } = await system.http.get(`/${partner.partnerUniqueId}/callbacks`).set(partner.auth).expect(200);
    const health = (body.items ?? body) as Array<{ notificationTypeId: number; health: string }>;
    expect(health.map((callback) => callback.health)).toEqual(TYPES.map(() => 'degraded'));

    // Each circuit sits on the master of its callback's shard queue, so one Lua script can touch both.
    for (const type of TYPES) {
      const shard = queueShards(settings())[shardOf(partner, type)];
      for (const node of cluster.nodes) {
        const queueKeys = await cluster.keysOn(node, `${shard.prefix}:${shard.queueName}:*`);
        const circuit = await cluster.keysOn(node, callbackKeys(settings(), partner.partnerUniqueId, type).circuit);
        expect(circuit.length > 0).toBe(queueKeys.length > 0);
      }
    }
  });

  it('re-enqueues from PostgreSQL after FLUSHALL on every master, and delivers everything once', async () => {
    await system.stopWorkers();
    const before = receiver.requests.length;
    const ids = await publishToAll(3);
    await cluster.flushAll();
    expect((await statusCounts()).pending).toBe(ids.length);

    await system.startWorker();
    await waitUntil(
      async () => (await statusCounts()).pending === undefined,
      30_000,
      'the reconciler to re-enqueue and deliver every notification',
    );
    const delivered = receiver.requests.slice(before).map((request) => request.headers['webhook-id']);
    expect(new Set(delivered)).toEqual(new Set(ids));
    expect(delivered).toHaveLength(ids.length);
  }, 60_000);

  it('runs as a built worker process, which delivers from every shard and exits 0 on SIGTERM', async () => {
    await system.stopWorkers();
    const worker = startBuiltApp(BUILT_WORKER, { ...system.environment.env, LOG_LEVEL: 'info' });
    try {
      await worker.waitForOutput(`worker running with concurrency 20 over ${SHARDS} queue shards`);
      const ids = await publishToAll(1);
      await waitUntil(async () => (await statusCounts()).pending === undefined, 20_000, 'the worker process to deliver every notification');
      for (const id of ids) expect(receiver.deliveriesOf(id)).toHaveLength(1);
      worker.kill('SIGTERM');
      expect(await worker.exited).toEqual({ code: 0, signal: null });
    } finally {
      worker.kill('SIGKILL');
      await system.startWorker();
    }
  });

  it('shows every shard’s queue in Bull Board', async () => {
    const { body } = await system.http.get('/admin/queues/api/queues').auth('admin', TEST_ADMIN_API_KEY).expect(200);
    const queues = body.queues as Array<{ name: string; displayName?: string }>;
    expect(queues.map((queue) => queue.name).sort()).toEqual(['deliveries', 'deliveries-1', 'deliveries-2']);
    expect(queues.find((queue) => queue.name === 'deliveries-2')?.displayName).toBe('Webhook deliveries, shard 3 of 3');
  });
});
