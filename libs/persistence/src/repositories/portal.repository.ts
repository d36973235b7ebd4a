import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, LessThan } from 'typeorm';
import { PortalLinkEntity } from '../entities/portal-link.entity';
import type { SqlExecutor } from '../sql-executor';

/** The signed-in partner of a live session. */
export interface ActivePortalSession {
  id: string;
  partnerId: string;
  partnerName: string;
  /** The API key whose link started it; null: the operator's. */
  apiKeyId: string | null;
}

/**
 * The portal's sign-in links and sessions (only hashes of their tokens), each with the credential
 * that created it: an API key id, or null for the operator. Each method runs on `db` when given.
 */
@Injectable()
export class PortalRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insertLink(
    link: { tokenHash: string; partnerId: string; apiKeyId: string | null; expiresAt: Date },
    db: SqlExecutor = this.dataSource,
  ): Promise<void> {
    await db.query(`INSERT INTO portal_links (token_hash, partner_id, api_key_id, expires_at) VALUES ($1, $2, $3, $4)`, [
      link.tokenHash,
      link.partnerId,
      link.apiKeyId,
      link.expiresAt,
    ]);
  }

  async deleteLinksExpiredBefore(before: Date): Promise<void> {
    await this.dataSource.getRepository(PortalLinkEntity).delete({ expiresAt: LessThan(before) });
  }

  /**
   * Marks an unused, unexpired link used; returns its partner and the key that made it, or null
   * when it was not such a link. A link made by a revoked key is no such link.
   */
  async claimLink(tokenHash: string, db: SqlExecutor = this.dataSource): Promise<{ partnerId: string; apiKeyId: string | null } | null> {
    const [claimed] = (await db.query(
      `UPDATE portal_links l SET used_at = now()
        WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
          AND (api_key_id IS NULL OR EXISTS (SELECT 1 FROM api_keys k WHERE k.id = l.api_key_id AND k.revoked_at IS NULL))
        RETURNING partner_id, api_key_id`,
      [tokenHash],
    )) as [Array<{ partner_id: string; api_key_id: string | null }>, number];
    return claimed[0] ? { partnerId: claimed[0].partner_id, apiKeyId: claimed[0].api_key_id } : null;
  }

  /**
   * A link by its token's hash, whatever its state: when it was used (null: never), whether it has
   * expired, and its partner's name; null when unknown.
   */
  async link(
    tokenHash: string,
    db: SqlExecutor = this.dataSource,
  ): Promise<{ usedAt: Date | null; expired: boolean; partnerName: string } | null> {
    const [known] = (await db.query(
      `SELECT l.used_at, l.expires_at <= now() AS expired, p.name AS partner_name
         FROM portal_links l JOIN partners p ON p.id = l.partner_id WHERE l.token_hash = $1`,
      [tokenHash],
    )) as Array<{ used_at: Date | null; expired: boolean; partner_name: string }>;
    return known ? { usedAt: known.used_at, expired: known.expired, partnerName: known.partner_name } : null;
  }

  /**
   * Deletes expired sessions and the session with this token's hash (a browser's previous one);
   * returns the latter when it was still live (null: none, or it had expired).
   */
  async deleteExpiredSessionsAnd(tokenHash: string, db: SqlExecutor = this.dataSource): Promise<{ id: string; partnerId: string } | null> {
    const [deleted] = (await db.query(
      `DELETE FROM portal_sessions WHERE expires_at <= now() OR token_hash = $1
        RETURNING id, partner_id, (token_hash = $1 AND expires_at > now()) AS previous`,
      [tokenHash],
    )) as [Array<{ id: string; partner_id: string; previous: boolean }>, number];
    const previous = deleted.find((session) => session.previous);
    return previous ? { id: previous.id, partnerId: previous.partner_id } : null;
  }

  async insertSession(
    session: { id: string; tokenHash: string; partnerId: string; apiKeyId: string | null; expiresAt: Date },
    db: SqlExecutor = this.dataSource,
  ): Promise<void> {
    await db.query(`INSERT INTO portal_sessions (id, token_hash, partner_id, api_key_id, expires_at) VALUES ($1, $2, $3, $4, $5)`, [
      session.id,
      session.tokenHash,
      session.partnerId,
      session.apiKeyId,
      session.expiresAt,
    ]);
  }

  /** The unexpired session with this token's hash, unless the key that started it has been revoked since. */
  async activeSession(tokenHash: string): Promise<ActivePortalSession | null> {
    const [session] = (await this.dataSource.query(
      `SELECT s.id, s.partner_id, p.name AS partner_name, s.api_key_id
         FROM portal_sessions s JOIN partners p ON p.id = s.partner_id LEFT JOIN api_keys k ON k.id = s.api_key_id
        WHERE s.token_hash = $1 AND s.expires_at > now() AND (s.api_key_id IS NULL OR k.revoked_at IS NULL)`,
      [tokenHash],
    )) as Array<{ id: string; partner_id: string; partner_name: string; api_key_id: string | null }>;
    return session
      ? { id: session.id, partnerId: session.partner_id, partnerName: session.partner_name, apiKeyId: session.api_key_id }
      : null;
  }

  /** Deletes the session; false when it was already gone. */
  async deleteSession(sessionId: string, db: SqlExecutor = this.dataSource): Promise<boolean> {
    const [, deleted] = (await db.query(`DELETE FROM portal_sessions WHERE id = $1`, [sessionId])) as [unknown, number];
    return deleted > 0;
  }

  /**
   * Ends what a revoked key started: its sessions and its unused links (used ones are kept until
   * swept, so a used link still says "already used"). Returns the ended sessions' ids.
   */
  endOfApiKey(apiKeyId: string, db: SqlExecutor = this.dataSource): Promise<string[]> {
    return this.endWhere('api_key_id', apiKeyId, db);
  }

  /** Ends every session and unused link of the partner; returns the ended sessions' ids. */
  endOfPartner(partnerId: string, db: SqlExecutor = this.dataSource): Promise<string[]> {
    return this.endWhere('partner_id', partnerId, db);
  }

  /** Links first: a link being claimed right now is waited for, and the session it made is then seen by the second statement. */
  private async endWhere(column: 'api_key_id' | 'partner_id', id: string, db: SqlExecutor): Promise<string[]> {
    await db.query(`DELETE FROM portal_links WHERE ${column} = $1 AND used_at IS NULL`, [id]);
    const [sessions] = (await db.query(`DELETE FROM portal_sessions WHERE ${column} = $1 RETURNING id`, [id])) as [
      Array<{ id: string }>,
      number,
    ];
    return sessions.map((session) => session.id);
  }

  /** Deletes every link and session of the partner; returns how many sessions went. */
  async deleteAllOfPartner(partnerId: string, db: SqlExecutor = this.dataSource): Promise<number> {
    const [sessions] = (await db.query(
      `WITH links AS (DELETE FROM portal_links WHERE partner_id = $1) DELETE FROM portal_sessions WHERE partner_id = $1 RETURNING 1`,
      [partnerId],
    )) as [unknown[], number];
    return sessions.length;
  }
}
