import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { ApiKeyEntity } from '@callbacks/persistence';
import { ApiKeyCache } from '../../auth/api-key-cache';
import { DomainError } from '../../common/domain-error';
import { PartnerLookup } from '../partner-lookup';

@Injectable()
export class RevokeApiKey {
  constructor(
    private readonly partners: PartnerLookup,
    @InjectRepository(ApiKeyEntity) private readonly apiKeys: Repository<ApiKeyEntity>,
    private readonly cache: ApiKeyCache,
  ) {}

  async execute(partnerId: string, apiKeyId: string): Promise<void> {
    await this.partners.require(partnerId);
    const result = await this.apiKeys.update({ id: apiKeyId, partnerId, revokedAt: IsNull() }, { revokedAt: () => 'now()' });
    if (!result.affected) throw DomainError.notFound('api_key_not_found', `partner ${partnerId} has no active API key ${apiKeyId}`);
    await this.cache.forget([apiKeyId]);
  }
}
