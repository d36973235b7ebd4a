import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PartnerRepository } from '@callbacks/persistence';
import { type AuditOrigin, AuditTrail } from '../../audit/audit-trail';
import { ApiKeyCache } from '../../auth/api-key-cache';
import { DomainError } from '../../common/domain-error';
import { PartnerLookup } from '../partner-lookup';

@Injectable()
export class RevokeApiKey {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly partners: PartnerLookup,
    private readonly partnerRows: PartnerRepository,
    private readonly cache: ApiKeyCache,
    private readonly audit: AuditTrail,
  ) {}

  async execute(partnerId: string, apiKeyId: string, origin: AuditOrigin): Promise<void> {
    await this.partners.require(partnerId);
    await this.dataSource.transaction(async (manager) => {
      if (!(await this.partnerRows.revokeKey(partnerId, apiKeyId, manager)))
        throw DomainError.notFound('api_key_not_found', `partner ${partnerId} has no active API key ${apiKeyId}`);
      await this.audit.record(origin, { action: 'api_key_revoked', partnerId, target: `api_key:${apiKeyId}` }, manager);
    });
    await this.cache.forget([apiKeyId]);
  }
}
