import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { ApiKeyCreatedDto } from '@callbacks/contracts';
import { PartnerRepository } from '@callbacks/persistence';
import { generateApiKey } from '../../auth/api-key';
import { CredentialMac } from '../../auth/credential-mac';
import { PartnerLookup } from '../partner-lookup';

/** A new key for a partner; the partner's other keys keep working until revoked. */
@Injectable()
export class IssueApiKey {
  constructor(
    private readonly partners: PartnerLookup,
    private readonly partnerRows: PartnerRepository,
    private readonly mac: CredentialMac,
  ) {}

  async execute(partnerId: string): Promise<ApiKeyCreatedDto> {
    await this.partners.require(partnerId);
    const key = generateApiKey(this.mac);
    const apiKeyId = randomUUID();
    await this.partnerRows.insertKey({ id: apiKeyId, partnerId, keyHash: key.keyHash, keyPrefix: key.keyPrefix });
    return { apiKeyId, apiKey: key.apiKey };
  }
}
