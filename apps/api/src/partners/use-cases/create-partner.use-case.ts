import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { PartnerCreatedDto } from '@callbacks/contracts';
import { PartnerRepository } from '@callbacks/persistence';
import { generateApiKey } from '../../auth/api-key';
import { CredentialMac } from '../../auth/credential-mac';

/** Creates a partner together with its first API key, in one transaction. */
@Injectable()
export class CreatePartner {
  constructor(
    private readonly partners: PartnerRepository,
    private readonly mac: CredentialMac,
  ) {}

  async execute(name: string): Promise<PartnerCreatedDto> {
    const key = generateApiKey(this.mac);
    const partner = await this.partners.createWithKey(
      { id: randomUUID(), name: name.trim() },
      { id: randomUUID(), keyHash: key.keyHash, keyPrefix: key.keyPrefix },
    );
    return { partnerUniqueId: partner.id, name: partner.name, apiKey: key.apiKey, createdAt: partner.createdAt.toISOString() };
  }
}
