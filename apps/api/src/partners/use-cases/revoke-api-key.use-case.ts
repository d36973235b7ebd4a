import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PartnerRepository, PortalRepository } from '@callbacks/persistence';
import { AccessRevocations } from '../../auth/access-revocations';
import { DomainError } from '../../common/domain-error';
import { PartnerLookup } from '../partner-lookup';

/** Revokes a key and, in the same transaction, ends the portal sessions and unused links it made. */
@Injectable()
export class RevokeApiKey {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly partners: PartnerLookup,
    private readonly partnerRows: PartnerRepository,
    private readonly portal: PortalRepository,
    private readonly revocations: AccessRevocations,
  ) {}

  async execute(partnerId: string, apiKeyId: string): Promise<void> {
    await this.partners.require(partnerId);
    const revoked = await this.dataSource.transaction(async (manager) => {
      if (!(await this.partnerRows.revokeKey(partnerId, apiKeyId, manager))) return false;
      await this.portal.endOfApiKey(apiKeyId, manager);
      return true;
    });
    if (!revoked) throw DomainError.notFound('api_key_not_found', `partner ${partnerId} has no active API key ${apiKeyId}`);
    await this.revocations.publish({ apiKeyIds: [apiKeyId] });
  }
}
