import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { PartnerCreatedDto } from '@callbacks/contracts';
import { ApiKeyEntity, PartnerEntity } from '@callbacks/persistence';
import { generateApiKey } from '../../auth/api-key';

/** Creates a partner together with its first API key, in one transaction. */
@Injectable()
export class CreatePartner {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async execute(name: string): Promise<PartnerCreatedDto> {
    const key = generateApiKey();
    const partner = await this.dataSource.transaction(async (manager) => {
      const created = await manager.save(PartnerEntity, { id: randomUUID(), name: name.trim() });
      await manager.insert(ApiKeyEntity, { id: randomUUID(), partnerId: created.id, keyHash: key.keyHash, keyPrefix: key.keyPrefix });
      return created;
    });
    return { partnerUniqueId: partner.id, name: partner.name, apiKey: key.apiKey, createdAt: partner.createdAt.toISOString() };
  }
}
