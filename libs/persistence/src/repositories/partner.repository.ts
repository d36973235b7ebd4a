import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager, IsNull } from 'typeorm';
import { ApiKeyEntity } from '../entities/api-key.entity';
import { PartnerEntity } from '../entities/partner.entity';
import type { SqlExecutor } from '../sql-executor';

/** A new API key as stored: its hash and prefix, never the key. */
export interface NewApiKey {
  id: string;
  partnerId: string;
  keyHash: string;
  keyPrefix: string;
}

/** Partners and their API keys. Each method runs on `db` when given (a caller's transaction), else on its own. */
@Injectable()
export class PartnerRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  exists(partnerId: string): Promise<boolean> {
    return this.dataSource.getRepository(PartnerEntity).exists({ where: { id: partnerId } });
  }

  /** A partner with its first API key, in `manager`'s transaction. */
  async createWithKey(
    partner: { id: string; name: string },
    key: Omit<NewApiKey, 'partnerId'>,
    manager: EntityManager,
  ): Promise<PartnerEntity> {
    const created = await manager.save(PartnerEntity, partner);
    await manager.insert(ApiKeyEntity, { ...key, partnerId: created.id, macFormat: true });
    return created;
  }

  /** Deletes the partner row (what still points at it goes by cascade); returns how many rows went. */
  async delete(partnerId: string, db: SqlExecutor = this.dataSource): Promise<number> {
    const [, deleted] = (await db.query('DELETE FROM partners WHERE id = $1', [partnerId])) as [unknown, number];
    return deleted;
  }

  /** The active (unrevoked) key with this hash. */
  async activeKey(keyHash: string): Promise<{ id: string; partnerId: string } | null> {
    return this.dataSource
      .getRepository(ApiKeyEntity)
      .findOne({ where: { keyHash, revokedAt: IsNull() }, select: { id: true, partnerId: true } });
  }

  async insertKey(key: NewApiKey, db: SqlExecutor = this.dataSource): Promise<void> {
    await db.query(`INSERT INTO api_keys (id, partner_id, key_hash, key_prefix, mac_format) VALUES ($1, $2, $3, $4, true)`, [
      key.id,
      key.partnerId,
      key.keyHash,
      key.keyPrefix,
    ]);
  }

  /** The hashes of every active old-format key (issued before keys carried a MAC). */
  async activeLegacyKeyHashes(): Promise<string[]> {
    const rows = (await this.dataSource.query(`SELECT key_hash FROM api_keys WHERE revoked_at IS NULL AND NOT mac_format`)) as Array<{
      key_hash: string;
    }>;
    return rows.map((row) => row.key_hash);
  }

  /** Revokes an active key of the partner; false when there is none. */
  async revokeKey(partnerId: string, apiKeyId: string, db: SqlExecutor = this.dataSource): Promise<boolean> {
    const [, revoked] = (await db.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND partner_id = $2 AND revoked_at IS NULL`, [
      apiKeyId,
      partnerId,
    ])) as [unknown, number];
    return revoked > 0;
  }

  /** Deletes every key of the partner; returns their ids. */
  async deleteKeys(partnerId: string, db: SqlExecutor = this.dataSource): Promise<string[]> {
    const [keys] = (await db.query('DELETE FROM api_keys WHERE partner_id = $1 RETURNING id', [partnerId])) as [
      Array<{ id: string }>,
      number,
    ];
    return keys.map((key) => key.id);
  }
}
