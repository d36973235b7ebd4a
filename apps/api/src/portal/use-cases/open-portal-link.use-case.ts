import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { PortalRepository } from '@callbacks/persistence';
import { AuditTrail, portalSessionEnded, type RequestSource } from '../../audit/audit-trail';
import { CredentialMac } from '../../auth/credential-mac';
import { UnknownCredentials } from '../../auth/unknown-credentials';
import { generatePortalToken, hashPortalToken, isPortalToken, PORTAL_SESSION_TTL_MS } from '../../auth/portal-session-cookie';

export type OpenPortalLinkResult =
  | { kind: 'signed_in'; sessionToken: string; partnerId: string }
  /** Why the link signs nobody in: each has its own page. */
  | { kind: 'used' | 'expired' | 'unknown' };

/**
 * Trades a sign-in link for a session, once: marking the link used and creating the session is one
 * transaction, and only an unused, unexpired link is marked. The browser's previous session and
 * expired sessions are deleted here too. The session's start is audited in the same transaction, the
 * new session its actor.
 */
@Injectable()
export class OpenPortalLink {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly portal: PortalRepository,
    private readonly audit: AuditTrail,
    private readonly mac: CredentialMac,
    private readonly unknown: UnknownCredentials,
  ) {}

  /** `previousSessionToken`: the browser's current session, if any; a new sign-in ends it. */
  async execute(token: string, source: RequestSource, previousSessionToken?: string): Promise<OpenPortalLinkResult> {
    if (!isPortalToken(this.mac, 'portal-link', token)) return { kind: 'unknown' };
    const tokenHash = hashPortalToken(token);
    if (this.unknown.has(tokenHash)) return { kind: 'unknown' };
    const result = await this.dataSource.transaction(async (manager): Promise<OpenPortalLinkResult> => {
      const claimed = await this.portal.claimLink(tokenHash, manager);
      if (!claimed) {
        const known = await this.portal.link(tokenHash, manager);
        if (!known) return { kind: 'unknown' };
        return { kind: known.usedAt === null ? 'expired' : 'used' };
      }
      const { partnerId, apiKeyId } = claimed;
      const sessionToken = generatePortalToken(this.mac, 'portal-session');
      const sessionId = randomUUID();
      const origin = { actor: { kind: 'portal_session' as const, id: sessionId }, ...source };
      const previous = await this.portal.deleteExpiredSessionsAnd(hashPortalToken(previousSessionToken ?? ''), manager);
      if (previous) await this.audit.record(origin, portalSessionEnded(previous.partnerId, previous.id, 'signed_in_again'), manager);
      await this.portal.insertSession(
        {
          id: sessionId,
          tokenHash: hashPortalToken(sessionToken),
          partnerId,
          apiKeyId,
          // From sign-in, never renewed: the cookie's Max-Age says the same.
          expiresAt: new Date(Date.now() + PORTAL_SESSION_TTL_MS),
        },
        manager,
      );
      await this.audit.record(origin, { action: 'portal_session_started', partnerId, target: `portal_session:${sessionId}` }, manager);
      return { kind: 'signed_in', sessionToken, partnerId };
    });
    if (result.kind === 'unknown') this.unknown.add(tokenHash);
    return result;
  }
}
