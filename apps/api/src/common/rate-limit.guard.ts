import { type CanActivate, type ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import type { AuthenticatedRequest } from '../auth/principal';
import { DomainError } from './domain-error';
import { SlidingWindowLimiter, type Taken } from './sliding-window-limiter';

const RATE_LIMIT_METADATA = 'callbacks:rate-limit';

/**
 * Which budget a route draws from; every partner route draws from "partner" unless it says otherwise.
 * "echo" is for the routes that make us send traffic to the partner's endpoint: echo and redeliver.
 */
export type RateLimitClass = 'partner' | 'echo';
export const RateLimit = (limitClass: RateLimitClass) => SetMetadata(RATE_LIMIT_METADATA, limitClass);

/**
 * Per partner, per minute (a window sliding by the second, counted in Redis, so every API replica shares it): all of a
 * partner's API keys and portal sessions draw from one budget, so more keys or sessions buy no more
 * requests, and one partner cannot starve the others. The echo, which makes us send traffic, has a
 * tighter budget, shared with redelivery and recovery. Over the limit: 429 with Retry-After. The operator key is not limited. When Redis
 * cannot answer, requests pass: the limiter protects capacity, it is not an authorisation check.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly limiter: SlidingWindowLimiter,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('RateLimitGuard');
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (principal === undefined || principal.kind === 'admin') return true;
    const limitClass =
      this.reflector.getAllAndOverride<RateLimitClass | undefined>(RATE_LIMIT_METADATA, [context.getHandler(), context.getClass()]) ??
      'partner';
    const limit = limitClass === 'echo' ? this.config.echoRateLimitPerMinute : this.config.partnerRateLimitPerMinute;
    let taken: Taken;
    try {
      taken = await this.limiter.take(`${this.config.queuePrefix}:ratelimit:${limitClass}:${principal.partnerId}`, limit);
    } catch (error) {
      this.logger.warn({ err: error }, 'rate limiter unavailable; letting the request through');
      return true;
    }
    if (taken.taken) return true;
    const retryAfterSeconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
    throw new DomainError(
      429,
      'rate_limited',
      `this partner's API keys and portal sessions together made more than ${limit} ${limitClass === 'echo' ? 'echo and redeliver ' : ''}requests in the last minute; retry after ${retryAfterSeconds} s`,
      undefined,
      {
        'Retry-After': String(retryAfterSeconds),
      },
    );
  }
}
