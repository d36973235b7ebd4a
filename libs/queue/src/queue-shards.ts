import type { AppConfig } from '@callbacks/config';
import { DELIVERY_QUEUE } from './delivery-queue';

/** What the shard layout depends on: QUEUE_PREFIX ("{whk}") and QUEUE_SHARDS. */
export type ShardSettings = Pick<AppConfig, 'queuePrefix' | 'queueShards'>;

/**
 * One delivery queue. Its BullMQ keys and the isolation keys of every callback mapped to it start
 * with `prefix`, a hash tag, so one Redis Cluster slot holds them all and a Lua script may touch
 * the queue and the callback's keys together.
 */
export interface QueueShard {
  index: number;
  /** "deliveries" for shard 0, "deliveries-<i>" for the others (Bull Board and Nest name queues by it). */
  queueName: string;
  /** "{whk}" for shard 0 (today's keys), "{whk:<i>…}" for the others. */
  prefix: string;
}

const CLUSTER_SLOTS = 16_384;

/** CRC16-CCITT (XModem), the checksum Redis Cluster hashes keys with. */
function crc16(text: string): number {
  let crc = 0;
  for (const byte of Buffer.from(text, 'utf8')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The Redis Cluster slot of a key: of its hash tag (the text inside the first non-empty {…}) when it has one. */
export function clusterKeySlot(key: string): number {
  const open = key.indexOf('{');
  const close = open === -1 ? -1 : key.indexOf('}', open + 1);
  return crc16(close > open + 1 ? key.slice(open + 1, close) : key) % CLUSTER_SLOTS;
}

/**
 * Hash tags for `count` shards. Shard 0 keeps QUEUE_PREFIX's tag, so one shard (the default) uses
 * today's key names and shard 0 keeps its keys when QUEUE_SHARDS changes. Each other shard gets
 * the first tag "<prefix>:<i>", "<prefix>:<i>.1", … whose slot lies in the middle half of its own
 * 1/count of the slot space, counting on from shard 0's: a cluster whose masters own equal slot
 * ranges (as `redis-cli --cluster create` makes them) with `count` masters gets one shard on each.
 * ":" cannot occur in QUEUE_PREFIX, so no other deployment's prefix can equal a shard's tag.
 */
function shardTags(bare: string, count: number): string[] {
  const width = CLUSTER_SLOTS / count;
  const home = Math.floor(clusterKeySlot(`{${bare}}`) / width);
  const tags = [bare];
  for (let index = 1; index < count; index++) {
    const start = ((home + index) % count) * width;
    for (let attempt = 0; ; attempt++) {
      const tag = attempt === 0 ? `${bare}:${index}` : `${bare}:${index}.${attempt}`;
      const slot = clusterKeySlot(`{${tag}}`);
      if (slot >= start + width / 4 && slot < start + (3 * width) / 4) {
        tags.push(tag);
        break;
      }
    }
  }
  return tags;
}

const layouts = new Map<string, QueueShard[]>();

/** Every delivery queue of this deployment, shard 0 first. Workers consume all of them. */
export function queueShards(settings: ShardSettings): readonly QueueShard[] {
  const cacheKey = `${settings.queuePrefix}/${settings.queueShards}`;
  let layout = layouts.get(cacheKey);
  if (!layout) {
    const bare = settings.queuePrefix.replace(/^\{(.*)\}$/, '$1');
    layout = shardTags(bare, settings.queueShards).map((tag, index) => ({
      index,
      queueName: index === 0 ? DELIVERY_QUEUE : `${DELIVERY_QUEUE}-${index}`,
      prefix: `{${tag}}`,
    }));
    layouts.set(cacheKey, layout);
  }
  return layout;
}

/** FNV-1a, 32 bits: stable across processes and versions, unlike anything built on object identity. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * The shard of a callback (one partner's registration for one notification type): all its jobs and
 * its isolation keys live there. Changing QUEUE_SHARDS moves callbacks between shards (see README).
 */
export function callbackShard(settings: ShardSettings, partnerId: string, notificationTypeId: number): QueueShard {
  const shards = queueShards(settings);
  return shards[shards.length === 1 ? 0 : fnv1a(`${partnerId}:${notificationTypeId}`) % shards.length];
}
