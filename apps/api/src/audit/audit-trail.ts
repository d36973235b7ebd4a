import { createParamDecorator, type ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { randomUUID } from 'node:crypto';
import type { AuditAction } from '@callbacks/contracts';
import { type AuditActorKind, AuditRepository, type SqlExecutor } from '@callbacks/persistence';
import type { AuthenticatedRequest, Principal } from '../auth/principal';

/** Who made a change: the operator (no id), an API key (its id), or a portal session (its id). */
export interface AuditActor {
  kind: AuditActorKind;
  id: string | null;
}

/** Where a change came from: its actor, the request's id (as logged and answered in x-request-id) and source address. */
export interface AuditOrigin {
  actor: AuditActor;
  requestId: string | null;
  sourceAddress: string | null;
}

/** One change of access or destination. `target` is `kind:id`; `details` hold ids, URLs and counts, never a secret, header value or payload. */
export interface AuditedChange {
  action: AuditAction;
  partnerId: string | null;
  target: string | null;
  details?: Record<string, unknown>;
}

/** A portal session's end, whatever ended it (`reason`: sign_out, signed_in_again, api_key_revoked, ended_by_operator). */
export function portalSessionEnded(
  partnerId: string,
  sessionId: string,
  reason: string,
  details: Record<string, unknown> = {},
): AuditedChange {
  return { action: 'portal_session_ended', partnerId, target: `portal_session:${sessionId}`, details: { reason, ...details } };
}

export function auditActor(principal: Principal): AuditActor {
  if (principal.kind === 'admin') return { kind: 'operator', id: null };
  return principal.kind === 'partner' ? { kind: 'api_key', id: principal.apiKeyId } : { kind: 'portal_session', id: principal.sessionId };
}

/** Where a request came from, whoever makes it: the id pino-http gave it, and its source address as Express determines it (`request.ip`). */
export type RequestSource = Omit<AuditOrigin, 'actor'>;

export function requestSource(request: Request): RequestSource {
  const requestId = (request as Request & { id?: unknown }).id;
  return {
    requestId: typeof requestId === 'string' ? requestId : null,
    sourceAddress: request.ip ?? request.socket.remoteAddress ?? null,
  };
}

export function auditOrigin(request: Request, actor: AuditActor): AuditOrigin {
  return { actor, ...requestSource(request) };
}

/** The origin of the request's changes, on a route that declares an Audience (AuthGuard identified the caller). */
export const AuditedBy = createParamDecorator((_data: unknown, context: ExecutionContext): AuditOrigin => {
  const request = context.switchToHttp().getRequest<Request & AuthenticatedRequest>();
  if (!request.principal) throw new Error('AuditedBy used on a route without an Audience');
  return auditOrigin(request, auditActor(request.principal));
});

/**
 * The audit trail: every change of access or destination, recorded once. A use case whose change is
 * a transaction passes that transaction as `db`, so a change that rolls back leaves no entry.
 */
@Injectable()
export class AuditTrail {
  constructor(private readonly entries: AuditRepository) {}

  async record(origin: AuditOrigin, change: AuditedChange, db?: SqlExecutor): Promise<void> {
    await this.entries.insert(
      {
        id: randomUUID(),
        action: change.action,
        actorKind: origin.actor.kind,
        actorId: origin.actor.id,
        partnerId: change.partnerId,
        target: change.target,
        details: change.details ?? {},
        requestId: origin.requestId,
        sourceAddress: origin.sourceAddress,
      },
      db,
    );
  }
}
