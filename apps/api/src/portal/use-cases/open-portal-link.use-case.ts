import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { generatePortalToken, hashPortalToken, isPortalToken, PORTAL_SESSION_TTL_MS } from '../../auth/portal-session-cookie';

export type OpenPortalLinkResult =
  | { kind: 'signed_in'; sessionToken: string; partnerId: string }
  /** Why the link signs nobody in: each has its own page. */
  | { kind: 'used' | 'expired' | 'unknown' };

/**
 * Trades a sign-in link for a session, once: marking the link used and creating the session is one
 * transaction, and only an unused, unexpired link is marked. The browser's previous session and
 * expired sessions are deleted here too.
 */
@Injectable()
export class OpenPortalLink {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** `previousSessionToken`: the browser's current session, if any; a new sign-in ends it. */
  async execute(token: string, previousSessionToken?: string): Promise<OpenPortalLinkResult> {
    if (!isPortalToken(token)) return { kind: 'unknown' };
    const tokenHash = hashPortalToken(token);
    return this.dataSource.transaction(async (manager) => {
      const [claimed] = (await manager.query(
        `UPDATE portal_links SET used_at = now() WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING partner_id`,
        [tokenHash],
      )) as [Array<{ partner_id: string }>, number];
      const [link] = claimed;
      if (!link) {
        const [known] = (await manager.query(`SELECT used_at FROM portal_links WHERE token_hash = $1`, [tokenHash])) as Array<{
          used_at: Date | null;
        }>;
        if (!known) return { kind: 'unknown' };
        return { kind: known.used_at === null ? 'expired' : 'used' };
      }
      const sessionToken = generatePortalToken();
      await manager.query(`DELETE FROM portal_sessions WHERE expires_at <= now() OR token_hash = $1`, [
        hashPortalToken(previousSessionToken ?? ''),
      ]);
      await manager.query(`INSERT INTO portal_sessions (id, token_hash, partner_id, expires_at) VALUES ($1, $2, $3, $4)`, [
        randomUUID(),
        hashPortalToken(sessionToken),
        link.partner_id,
        new Date(Date.now() + PORTAL_SESSION_TTL_MS),
      ]);
      return { kind: 'signed_in', sessionToken, partnerId: link.partner_id };
    });
  }
}
