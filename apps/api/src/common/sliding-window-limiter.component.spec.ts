import { createTestEnvironment, type TestEnvironment } from '@callbacks/testing';
import { ApiRedis } from './api-redis';
import { SlidingWindowLimiter, type Taken } from './sliding-window-limiter';

/**
 * The per-minute budgets' window, against a real Redis, at explicit times: a minute boundary
 * (12:01:00 here) changes nothing, only requests leaving the last 60 s do.
 */
describe('SlidingWindowLimiter (component: the Lua window against real Redis)', () => {
  /** A whole minute, so that "12:00:59" is 59 s after a boundary that a fixed window would reset at. */
  const MINUTE = Date.UTC(2026, 11, 1, 12, 0, 0);
  let environment: TestEnvironment;
  let redis: ApiRedis;
  let limiter: SlidingWindowLimiter;
  let keys = 0;

  beforeAll(async () => {
    environment = await createTestEnvironment();
    redis = new ApiRedis(environment.config);
    limiter = new SlidingWindowLimiter(redis);
    // The API's client fails fast rather than queueing commands: wait until it is connected.
    if (redis.client.status !== 'ready') await new Promise((resolve) => redis.client.once('ready', resolve));
  });
  afterAll(async () => {
    redis.onApplicationShutdown();
    await environment.destroy();
  });

  const newKey = () => `${environment.queuePrefix}:limiter-spec:${++keys}`;
  const at = (seconds: number, ms = 0) => MINUTE + seconds * 1000 + ms;
  async function takeMany(key: string, count: number, now: number): Promise<Taken[]> {
    const results: Taken[] = [];
    for (let i = 0; i < count; i++) results.push(await limiter.take(key, 5, now));
    return results;
  }

  it('does not open again at the minute boundary: a budget spent at 12:00:59 has room from 12:01:59', async () => {
    const key = newKey();
    expect((await takeMany(key, 5, at(59, 500))).every((result) => result.taken)).toBe(true);
    // 12:01:01: a window fixed to the clock's minutes would have started again.
    expect(await limiter.take(key, 5, at(61))).toEqual({ taken: false, retryAfterMs: at(119) - at(61) });
    expect(await limiter.take(key, 5, at(118, 999))).toEqual({ taken: false, retryAfterMs: 1 });
    expect(await limiter.take(key, 5, at(119))).toEqual({ taken: true });
  });

  it('frees requests as they leave the window, oldest first, and tells how long until then', async () => {
    const key = newKey();
    await takeMany(key, 2, at(10));
    await takeMany(key, 3, at(40, 250));
    expect(await limiter.take(key, 5, at(45))).toEqual({ taken: false, retryAfterMs: at(70) - at(45) });
    // 12:01:10: the two of 12:00:10 have left, three of 12:00:40 are still in.
    expect(await takeMany(key, 3, at(70))).toEqual([{ taken: true }, { taken: true }, { taken: false, retryAfterMs: at(100) - at(70) }]);
  });

  it('takes nothing for a refused request: a client that keeps knocking gets its limit a minute, not less', async () => {
    const key = newKey();
    await takeMany(key, 5, at(0));
    for (let second = 1; second < 60; second++) expect((await limiter.take(key, 5, at(second))).taken).toBe(false);
    expect((await takeMany(key, 5, at(60))).every((result) => result.taken)).toBe(true);
  });

  it('keeps a budget in at most 61 fields, however large the limit, and lets the key expire', async () => {
    const key = newKey();
    for (let second = 0; second < 180; second++) await limiter.take(key, 1_000_000, at(second));
    expect(await redis.client.hlen(key)).toBeLessThanOrEqual(61);
    expect(await redis.client.pttl(key)).toBeGreaterThan(0);
    expect(await redis.client.pttl(key)).toBeLessThanOrEqual(61_000);
  });

  it('keeps budgets apart', async () => {
    const [spent, other] = [newKey(), newKey()];
    await takeMany(spent, 5, at(0));
    expect((await limiter.take(spent, 5, at(1))).taken).toBe(false);
    expect(await limiter.take(other, 5, at(1))).toEqual({ taken: true });
  });
});
