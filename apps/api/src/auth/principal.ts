import { applyDecorators, createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';

export type Principal =
  | { kind: 'admin' }
  | { kind: 'partner'; partnerId: string; apiKeyId: string }
  /**
   * A browser signed in to the partner portal: the rights of its partner's API key, except making
   * portal links or keys. `apiKeyId`: the key whose link started it (null: the operator's link).
   */
  | { kind: 'portal'; partnerId: string; partnerName: string; sessionId: string; apiKeyId: string | null };

/** Who may call a route: the operator only, or a partner (on its own partnerUniqueID) or the operator. */
export type Audience = 'admin' | 'partner';
export const AUDIENCE_METADATA = 'callbacks:audience';
/** Also marks the route in the OpenAPI document: `x-audience: operator` (operator key only) or `partner`. */
export const Audience = (audience: Audience) =>
  applyDecorators(SetMetadata(AUDIENCE_METADATA, audience), ApiExtension('x-audience', audience === 'admin' ? 'operator' : 'partner'));

export const NOT_FOR_PORTAL_SESSIONS_METADATA = 'callbacks:not-for-portal-sessions';
/**
 * A route a portal session may not call (403 `portal_session_not_allowed`): making portal links or
 * API keys, so that a session, or a script holding its cookie, cannot outlive the credential behind it.
 */
export const NotForPortalSessions = () => SetMetadata(NOT_FOR_PORTAL_SESSIONS_METADATA, true);

export interface AuthenticatedRequest {
  principal?: Principal;
}

/** The caller, as AuthGuard identified it. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a route without an Audience');
  return principal;
});

/** The idempotency scope of a caller: keys from different callers never collide. */
export function callerId(principal: Principal): string {
  if (principal.kind === 'admin') return 'admin';
  return principal.kind === 'partner' ? `key:${principal.apiKeyId}` : `portal:${principal.sessionId}`;
}
