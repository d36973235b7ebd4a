import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { DomainError } from '../common/domain-error';
import { isUuid } from '../common/params';
import { hashApiKey, secretsEqual } from './api-key';
import { ApiKeyCache } from './api-key-cache';
import { AUDIENCE_METADATA, type Audience, type AuthenticatedRequest, type Principal } from './principal';

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

function unauthorized(detail: string): DomainError {
  return new DomainError(401, 'unauthorized', detail, undefined, { 'WWW-Authenticate': 'Bearer' });
}

/**
 * Authenticates `Authorization: Bearer <key>` on every route that declares an Audience.
 * Keys are only ever read from that header (never from a query string). A partner key may act
 * only on its own partnerUniqueID; the operator key may act on any partner and alone on admin routes.
 * Partner keys are looked up through ApiKeyCache: a revoked key stops working within 5 seconds.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly apiKeys: ApiKeyCache,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const audience = this.reflector.getAllAndOverride<Audience | undefined>(AUDIENCE_METADATA, [context.getHandler(), context.getClass()]);
    if (!audience) return true;
    const request = context.switchToHttp().getRequest<Request & AuthenticatedRequest>();
    const principal = await this.authenticate(request.headers.authorization);
    if (audience === 'admin' && principal.kind !== 'admin') {
      throw new DomainError(403, 'forbidden', 'this route needs the operator key');
    }
    const partnerParam = request.params.partnerUniqueID;
    // A malformed id is left to the route's validation (400); it cannot name the caller's partner anyway.
    if (principal.kind === 'partner' && isUuid(partnerParam) && partnerParam.toLowerCase() !== principal.partnerId) {
      throw new DomainError(403, 'forbidden', 'this API key may only act on its own partnerUniqueID');
    }
    request.principal = principal;
    return true;
  }

  private async authenticate(header: string | undefined): Promise<Principal> {
    if (!header) throw unauthorized('missing Authorization: Bearer <apiKey> header');
    const token = BEARER.exec(header)?.[1];
    if (!token) throw unauthorized('the Authorization header must be "Bearer <apiKey>"');
    if (this.config.adminApiKey !== null && secretsEqual(token, this.config.adminApiKey)) return { kind: 'admin' };
    const principal = await this.apiKeys.lookup(hashApiKey(token));
    if (!principal) throw unauthorized('unknown or revoked API key');
    return principal;
  }
}
