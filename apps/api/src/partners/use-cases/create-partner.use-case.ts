import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { PartnerCreatedDto } from '@callbacks/contracts';
import { PartnerRepository } from '@callbacks/persistence';
import { type AuditOrigin, AuditTrail } from '../../audit/audit-trail';
import { generateApiKey } from '../../auth/api-key';
import { CredentialMac } from '../../auth/credential-mac';

/** Creates a partner together with its first API key (an audited key issue), in one transaction. */
@Injectable()
export class CreatePartner {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly partners: PartnerRepository,
    private readonly audit: AuditTrail,
    private readonly mac: CredentialMac,
  ) {}

  async execute(name: string, origin: AuditOrigin): Promise<PartnerCreatedDto> {
    const key = generateApiKey(this.mac);
    const apiKeyId = randomUUID();
    const partner = await this.dataSource.transaction(async (manager) => {
      const created = await this.partners.createWithKey(
        { id: randomUUID(), name: name.trim() },
        { id: apiKeyId, keyHash: key.keyHash, keyPrefix: key.keyPrefix },
        manager,
      );
      await this.audit.record(
        origin,
        {
          action: 'api_key_issued',
          partnerId: created.id,
          target: `api_key:${apiKeyId}`,
          details: { firstKey: true },
        },
        manager,
      );
      return created;
    });
    return { partnerUniqueId: partner.id, name: partner.name, apiKey: key.apiKey, createdAt: partner.createdAt.toISOString() };
  }
}
