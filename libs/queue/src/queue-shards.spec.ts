import { callbackKeys } from './callback-health';
import { callbackShard, clusterKeySlot, queueShards } from './queue-shards';

describe('clusterKeySlot', () => {
  it('matches Redis Cluster (CLUSTER KEYSLOT), hash tags included', () => {
    expect(clusterKeySlot('somekey')).toBe(11058);
    expect(clusterKeySlot('foo')).toBe(12182);
    expect(clusterKeySlot('foo{hash_tag}')).toBe(2515);
    expect(clusterKeySlot('bar{hash_tag}')).toBe(2515);
  });
});

describe('queue shards', () => {
  it('keeps the queue name and the key names of today with one shard', () => {
    expect(queueShards({ queuePrefix: '{whk}', queueShards: 1 })).toEqual([{ index: 0, queueName: 'deliveries', prefix: '{whk}' }]);
    expect(callbackKeys({ queuePrefix: '{whk}', queueShards: 1 }, 'p-1', 5)).toEqual({
      inFlight: '{whk}:callback:p-1:5:inflight',
      circuit: '{whk}:callback:p-1:5:circuit',
      probe: '{whk}:callback:p-1:5:probe',
      waiting: '{whk}:callback:p-1:5:waiting',
      handed: '{whk}:callback:p-1:5:handed',
      starts: '{whk}:callback:p-1:5:starts',
      started: '{whk}:callback:p-1:5:started',
      oauthToken: '{whk}:callback:p-1:5:oauth-token',
      oauthLock: '{whk}:callback:p-1:5:oauth-lock',
    });
  });

  it.each([2, 3, 4, 8])('gives %i shards their own tags, one per equal part of the slot space', (count) => {
    const shards = queueShards({ queuePrefix: '{whk}', queueShards: count });
    expect(shards.map((shard) => shard.index)).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(shards[0]).toEqual({ index: 0, queueName: 'deliveries', prefix: '{whk}' });
    expect(shards[1]).toMatchObject({ queueName: 'deliveries-1', prefix: expect.stringMatching(/^\{whk:1(\.\d+)?\}$/) });
    const parts = shards.map((shard) => Math.floor((clusterKeySlot(shard.prefix) * count) / 16_384));
    expect(new Set(parts).size).toBe(count);
    // Away from the edges of each part (the middle half), except shard 0, which keeps QUEUE_PREFIX's tag.
    for (const shard of shards.slice(1)) {
      const offset = (clusterKeySlot(shard.prefix) * count) % 16_384;
      expect(offset / 16_384).toBeGreaterThanOrEqual(0.25);
      expect(offset / 16_384).toBeLessThan(0.75);
    }
  });

  it('maps a callback to one shard, the same every time, and spreads callbacks evenly', () => {
    const settings = { queuePrefix: '{whk}', queueShards: 3 };
    expect(callbackShard(settings, 'partner-a', 5)).toBe(callbackShard(settings, 'partner-a', 5));
    const counts = [0, 0, 0];
    for (let i = 0; i < 3_000; i++)
      counts[callbackShard(settings, `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, 5 + (i % 3)).index]++;
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });

  it("puts a callback's isolation keys under its shard's tag", () => {
    const settings = { queuePrefix: '{whk}', queueShards: 3 };
    const { prefix } = callbackShard(settings, 'partner-b', 6);
    const keys = callbackKeys(settings, 'partner-b', 6);
    for (const key of Object.values(keys)) expect(key.startsWith(`${prefix}:callback:partner-b:6:`)).toBe(true);
    expect(new Set(Object.values(keys).map(clusterKeySlot))).toEqual(new Set([clusterKeySlot(prefix)]));
  });
});
