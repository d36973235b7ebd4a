import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { withTimeout } from '@callbacks/queue';
import { ApiRedis } from '../common/api-redis';
import { DomainError } from '../common/domain-error';

const WINDOW_MS = 60_000;
const MAX_BLOCKED = 10_000;

/**
 * Client addresses that keep sending refused credentials (API keys, session cookies, sign-in
 * links) get 429 for the rest of the minute: counted in Redis per address and minute (shared by
 * every API process), and once over AUTH_FAILURE_LIMIT_PER_MINUTE remembered here, so the address's
 * further refused credentials cost no Redis. Other addresses are not affected, and neither is a
 * valid credential from a blocked address: only refused ones are answered 429 (behind one NAT, or a
 * load balancer without TRUST_PROXY, one client's stale key must not lock every client out). The
 * address is request.ip: X-Forwarded-For only behind the proxies TRUST_PROXY names.
 */
@Injectable()
export class AuthFailures {
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly redis: ApiRedis,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('AuthFailures');
  }

  /** 429 when the caller's address is over its budget of refused credentials this minute. */
  private refuseIfBlocked(request: Request): void {
    const address = request.ip ?? '';
    const until = this.blockedUntil.get(address);
    if (until === undefined) return;
    if (until > Date.now()) throw tooMany(until);
    this.blockedUntil.delete(address);
  }

  /** Counts a refused credential from the caller's address; 429 once it is over the budget. */
  async record(request: Request): Promise<void> {
    this.refuseIfBlocked(request);
    const address = request.ip ?? '';
    const now = Date.now();
    const windowStart = now - (now % WINDOW_MS);
    const key = `${this.config.queuePrefix}:authfail:${address}:${windowStart}`;
    let count: number;
    try {
      const results = await withTimeout(
        this.redis.client.multi().incr(key).pexpire(key, WINDOW_MS).exec(),
        500,
        'the refused-credential counter',
      );
      count = Number(results?.[0]?.[1] ?? 0);
    } catch (error) {
      this.logger.warn({ err: error }, 'refused-credential counter unavailable');
      return;
    }
    if (count <= this.config.authFailureLimitPerMinute) return;
    const until = windowStart + WINDOW_MS;
    if (this.blockedUntil.size >= MAX_BLOCKED) this.blockedUntil.delete(this.blockedUntil.keys().next().value!);
    this.blockedUntil.set(address, until);
    throw tooMany(until);
  }
}

function tooMany(until: number): DomainError {
  const retryAfterSeconds = Math.max(1, Math.ceil((until - Date.now()) / 1000));
  return new DomainError(
    429,
    'rate_limited',
    `too many refused credentials from this address; retry after ${retryAfterSeconds} s`,
    undefined,
    { 'Retry-After': String(retryAfterSeconds) },
  );
}
