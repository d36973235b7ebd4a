import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { PortalRepository } from '@callbacks/persistence';
import { DomainError } from '../common/domain-error';
import { isUuid } from '../common/params';
import { secretsEqual } from './api-key';
import { ApiKeyCache } from './api-key-cache';
import { AuthFailures } from './auth-failures';
import { CredentialMac } from './credential-mac';
import { CSRF_FIELD, csrfTokenFor, hashPortalToken, isPortalToken, readSessionCookie } from './portal-session-cookie';
import { requestOrigin } from './request-origin';
import { UnknownCredentials } from './unknown-credentials';
import { AUDIENCE_METADATA, type Audience, type AuthenticatedRequest, NOT_FOR_PORTAL_SESSIONS_METADATA, type Principal } from './principal';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

function unauthorized(detail: string): DomainError {
  return new DomainError(401, 'unauthorized', detail, undefined, { 'WWW-Authenticate': 'Bearer' });
}

/**
 * Authenticates `Authorization: Bearer <key>` on every route that declares an Audience.
 * Keys are only ever read from that header (never from a query string). A partner key may act
 * only on its own partnerUniqueID; the operator key may act on any partner and alone on admin routes.
 * Partner keys are looked up through ApiKeyCache, which every revocation clears on every API process (AccessRevocations).
 * Without an Authorization header, a partner portal session cookie stands for its partner's key,
 * under the same rules, except on routes that make portal links or keys (NotForPortalSessions);
 * a change made with it must also come from the portal's own pages (same origin, and the
 * session's CSRF token).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly apiKeys: ApiKeyCache,
    private readonly portal: PortalRepository,
    private readonly mac: CredentialMac,
    private readonly unknown: UnknownCredentials,
    private readonly failures: AuthFailures,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const audience = this.reflector.getAllAndOverride<Audience | undefined>(AUDIENCE_METADATA, [context.getHandler(), context.getClass()]);
    if (!audience) return true;
    const request = context.switchToHttp().getRequest<Request & AuthenticatedRequest>();
    const sessionToken = request.headers.authorization === undefined ? readSessionCookie(request) : undefined;
    let principal: Principal;
    try {
      principal =
        sessionToken === undefined ? await this.authenticate(request.headers.authorization) : await this.portalSession(sessionToken);
    } catch (error) {
      // A credential was presented and refused: it counts against the address (no header at all does not).
      if (
        error instanceof DomainError &&
        error.status === 401 &&
        (request.headers.authorization !== undefined || sessionToken !== undefined)
      )
        await this.failures.record(request);
      throw error;
    }
    if (
      principal.kind === 'portal' &&
      this.reflector.getAllAndOverride<boolean>(NOT_FOR_PORTAL_SESSIONS_METADATA, [context.getHandler(), context.getClass()])
    ) {
      throw new DomainError(403, 'portal_session_not_allowed', 'a portal session may not make portal links or API keys; use an API key');
    }
    if (audience === 'admin' && principal.kind !== 'admin') {
      throw new DomainError(403, 'forbidden', 'this route needs the operator key');
    }
    const partnerParam = request.params.partnerUniqueID;
    // A malformed id is left to the route's validation (400); it cannot name the caller's partner anyway.
    if (principal.kind !== 'admin' && isUuid(partnerParam) && partnerParam.toLowerCase() !== principal.partnerId) {
      throw new DomainError(
        403,
        'forbidden',
        `this ${principal.kind === 'portal' ? 'portal session' : 'API key'} may only act on its own partnerUniqueID`,
      );
    }
    if (sessionToken !== undefined && !SAFE_METHODS.has(request.method)) refuseCrossSite(request, sessionToken);
    request.principal = principal;
    return true;
  }

  private async authenticate(header: string | undefined): Promise<Principal> {
    if (!header) throw unauthorized('missing Authorization: Bearer <apiKey> header');
    const token = BEARER.exec(header)?.[1];
    if (!token) throw unauthorized('the Authorization header must be "Bearer <apiKey>"');
    if (this.config.adminApiKey !== null && secretsEqual(token, this.config.adminApiKey)) return { kind: 'admin' };
    const principal = await this.apiKeys.lookup(token);
    if (!principal) throw unauthorized('unknown or revoked API key');
    return principal;
  }

  private async portalSession(token: string): Promise<Principal> {
    const tokenHash = isPortalToken(this.mac, 'portal-session', token) ? hashPortalToken(token) : null;
    const session = tokenHash === null || this.unknown.has(tokenHash) ? null : await this.portal.activeSession(tokenHash);
    if (tokenHash !== null && !session) this.unknown.add(tokenHash);
    if (!session) throw unauthorized('the portal session has ended or is not valid; open a new portal link');
    return {
      kind: 'portal',
      partnerId: session.partnerId,
      partnerName: session.partnerName,
      sessionId: session.id,
      apiKeyId: session.apiKeyId,
    };
  }
}

/** A change made with the session cookie must come from the portal's own pages. */
function refuseCrossSite(request: Request, sessionToken: string): void {
  if (requestOrigin(request) === 'cross-site') throw new DomainError(403, 'forbidden', 'cross-site request refused');
  const body = request.body as Record<string, unknown> | undefined;
  const given = request.headers['x-csrf-token'] ?? body?.[CSRF_FIELD];
  if (typeof given !== 'string' || !secretsEqual(given, csrfTokenFor(sessionToken))) {
    throw new DomainError(403, 'forbidden', 'missing or wrong CSRF token; reload the page and try again');
  }
}
