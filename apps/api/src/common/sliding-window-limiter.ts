import { Global, Injectable, Module } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withTimeout } from '@callbacks/queue';
import { ApiRedis } from './api-redis';

/** Every budget here is per minute. */
export const RATE_WINDOW_MS = 60_000;
const REDIS_TIMEOUT_MS = 500;

export type Taken = { taken: true } | { taken: false; retryAfterMs: number };

type LimiterRedis = ApiRedis['client'] & {
  takeFromWindow(key: string, now: number, windowMs: number, limit: number): Promise<[number, number]>;
};

/**
 * Budgets of requests per minute, in Redis (shared by every API process), over a window that slides
 * by the second (lua/sliding-window.lua): a budget spent at 12:00:59 has room again from 12:01:59
 * on, not at 12:01:00, so no 60 s ever holds more than the limit, and a refused request takes
 * nothing, so a client that keeps knocking still gets its limit a minute. A key costs at most 61
 * hash fields, whatever the limit.
 */
@Injectable()
export class SlidingWindowLimiter {
  private readonly redis: LimiterRedis;

  constructor(apiRedis: ApiRedis) {
    this.redis = apiRedis.client as LimiterRedis;
    // Sent by its SHA (EVALSHA), the script's text only when Redis does not have it yet.
    this.redis.defineCommand('takeFromWindow', {
      numberOfKeys: 1,
      lua: readFileSync(join(__dirname, 'lua', 'sliding-window.lua'), 'utf8'),
    });
  }

  /** Takes one request from `key`'s budget of `limit` a minute at `now`. Rejects when Redis does not answer within 500 ms. */
  async take(key: string, limit: number, now = Date.now()): Promise<Taken> {
    const [taken, retryAfterMs] = await withTimeout(
      this.redis.takeFromWindow(key, now, RATE_WINDOW_MS, limit),
      REDIS_TIMEOUT_MS,
      `the request budget ${key}`,
    );
    return taken === 1 ? { taken: true } : { taken: false, retryAfterMs };
  }
}

@Global()
@Module({ providers: [SlidingWindowLimiter], exports: [SlidingWindowLimiter] })
export class RateLimitModule {}
