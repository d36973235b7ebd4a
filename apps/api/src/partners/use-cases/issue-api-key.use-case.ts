import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { ApiKeyCreatedDto } from '@callbacks/contracts';
import { PartnerRepository } from '@callbacks/persistence';
import { type AuditOrigin, AuditTrail } from '../../audit/audit-trail';
import { generateApiKey } from '../../auth/api-key';
import { CredentialMac } from '../../auth/credential-mac';
import { PartnerLookup } from '../partner-lookup';

/** A new key for a partner; the partner's other keys keep working until revoked. */
@Injectable()
export class IssueApiKey {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly partners: PartnerLookup,
    private readonly partnerRows: PartnerRepository,
    private readonly mac: CredentialMac,
    private readonly audit: AuditTrail,
  ) {}

  async execute(partnerId: string, origin: AuditOrigin): Promise<ApiKeyCreatedDto> {
    await this.partners.require(partnerId);
    const key = generateApiKey(this.mac);
    const apiKeyId = randomUUID();
    await this.dataSource.transaction(async (manager) => {
      await this.partnerRows.insertKey({ id: apiKeyId, partnerId, keyHash: key.keyHash, keyPrefix: key.keyPrefix }, manager);
      await this.audit.record(origin, { action: 'api_key_issued', partnerId, target: `api_key:${apiKeyId}` }, manager);
    });
    return { apiKeyId, apiKey: key.apiKey };
  }
}
