import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, LessThan, MoreThan } from 'typeorm';
import { PortalLinkEntity } from '../entities/portal-link.entity';
import { PortalSessionEntity } from '../entities/portal-session.entity';
import type { SqlExecutor } from '../sql-executor';

/** The portal's sign-in links and sessions (only hashes of their tokens). Each method runs on `db` when given. */
@Injectable()
export class PortalRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insertLink(link: { tokenHash: string; partnerId: string; expiresAt: Date }, db: SqlExecutor = this.dataSource): Promise<void> {
    await db.query(`INSERT INTO portal_links (token_hash, partner_id, expires_at) VALUES ($1, $2, $3)`, [
      link.tokenHash,
      link.partnerId,
      link.expiresAt,
    ]);
  }

  async deleteLinksExpiredBefore(before: Date): Promise<void> {
    await this.dataSource.getRepository(PortalLinkEntity).delete({ expiresAt: LessThan(before) });
  }

  /** Marks an unused, unexpired link used; returns its partner, or null when it was not such a link. */
  async claimLink(tokenHash: string, db: SqlExecutor = this.dataSource): Promise<string | null> {
    const [claimed] = (await db.query(
      `UPDATE portal_links SET used_at = now() WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING partner_id`,
      [tokenHash],
    )) as [Array<{ partner_id: string }>, number];
    return claimed[0]?.partner_id ?? null;
  }

  /** A link by its token's hash, whatever its state: when it was used (null: never); null when unknown. */
  async link(tokenHash: string, db: SqlExecutor = this.dataSource): Promise<{ usedAt: Date | null } | null> {
    const [known] = (await db.query(`SELECT used_at FROM portal_links WHERE token_hash = $1`, [tokenHash])) as Array<{
      used_at: Date | null;
    }>;
    return known ? { usedAt: known.used_at } : null;
  }

  /** Deletes expired sessions and the session with this token's hash (a browser's previous one). */
  async deleteExpiredSessionsAnd(tokenHash: string, db: SqlExecutor = this.dataSource): Promise<void> {
    await db.query(`DELETE FROM portal_sessions WHERE expires_at <= now() OR token_hash = $1`, [tokenHash]);
  }

  async insertSession(
    session: { id: string; tokenHash: string; partnerId: string; expiresAt: Date },
    db: SqlExecutor = this.dataSource,
  ): Promise<void> {
    await db.query(`INSERT INTO portal_sessions (id, token_hash, partner_id, expires_at) VALUES ($1, $2, $3, $4)`, [
      session.id,
      session.tokenHash,
      session.partnerId,
      session.expiresAt,
    ]);
  }

  /** The unexpired session with this token's hash. */
  activeSession(tokenHash: string): Promise<{ id: string; partnerId: string } | null> {
    return this.dataSource
      .getRepository(PortalSessionEntity)
      .findOne({ where: { tokenHash, expiresAt: MoreThan(new Date()) }, select: { id: true, partnerId: true } });
  }

  /** Deletes the session; false when it was already gone. */
  async deleteSession(sessionId: string, db: SqlExecutor = this.dataSource): Promise<boolean> {
    const [, deleted] = (await db.query(`DELETE FROM portal_sessions WHERE id = $1`, [sessionId])) as [unknown, number];
    return deleted > 0;
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
