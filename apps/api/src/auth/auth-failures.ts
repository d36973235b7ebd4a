import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { DomainError } from '../common/domain-error';
import { SlidingWindowLimiter, type Taken } from '../common/sliding-window-limiter';

const MAX_BLOCKED = 10_000;

/**
 * Client addresses that keep sending refused credentials (API keys, session cookies, sign-in
 * links) get 429 until their last minute has room again: counted in Redis per address over a
 * minute that slides by the second (shared by every API process), and once over
 * AUTH_FAILURE_LIMIT_PER_MINUTE remembered here until then, so the address's further refused
 * credentials cost no Redis. Other addresses are not affected, and neither is a
 * valid credential from a blocked address: only refused ones are answered 429 (behind one NAT, or a
 * load balancer without TRUST_PROXY, one client's stale key must not lock every client out). The
 * address is request.ip: X-Forwarded-For only behind the proxies TRUST_PROXY names.
 */
@Injectable()
export class AuthFailures {
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly limiter: SlidingWindowLimiter,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('AuthFailures');
  }

  /** 429 when the caller's address is over its budget of refused credentials for the last minute. */
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
    let taken: Taken;
    try {
      taken = await this.limiter.take(`${this.config.queuePrefix}:authfail:${address}`, this.config.authFailureLimitPerMinute);
    } catch (error) {
      this.logger.warn({ err: error }, 'refused-credential counter unavailable');
      return;
    }
    if (taken.taken) return;
    const until = Date.now() + taken.retryAfterMs;
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
