import { Injectable } from '@nestjs/common';
import { PartnerRepository } from '@callbacks/persistence';
import { ApiKeyCache } from '../../auth/api-key-cache';
import { DomainError } from '../../common/domain-error';
import { PartnerLookup } from '../partner-lookup';

@Injectable()
export class RevokeApiKey {
  constructor(
    private readonly partners: PartnerLookup,
    private readonly partnerRows: PartnerRepository,
    private readonly cache: ApiKeyCache,
  ) {}

  async execute(partnerId: string, apiKeyId: string): Promise<void> {
    await this.partners.require(partnerId);
    if (!(await this.partnerRows.revokeKey(partnerId, apiKeyId)))
      throw DomainError.notFound('api_key_not_found', `partner ${partnerId} has no active API key ${apiKeyId}`);
    await this.cache.forget([apiKeyId]);
  }
}
