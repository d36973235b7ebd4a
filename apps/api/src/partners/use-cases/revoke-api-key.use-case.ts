import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PartnerRepository, PortalRepository } from '@callbacks/persistence';
import { type AuditOrigin, AuditTrail, portalSessionEnded } from '../../audit/audit-trail';
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
    private readonly audit: AuditTrail,
  ) {}

  async execute(partnerId: string, apiKeyId: string, origin: AuditOrigin): Promise<void> {
    await this.partners.require(partnerId);
    const revoked = await this.dataSource.transaction(async (manager) => {
      if (!(await this.partnerRows.revokeKey(partnerId, apiKeyId, manager))) return false;
      await this.audit.record(origin, { action: 'api_key_revoked', partnerId, target: `api_key:${apiKeyId}` }, manager);
      // The portal sessions the key's links started end with it, each an entry of its own.
      for (const sessionId of await this.portal.endOfApiKey(apiKeyId, manager))
        await this.audit.record(origin, portalSessionEnded(partnerId, sessionId, 'api_key_revoked', { apiKeyId }), manager);
      return true;
    });
    if (!revoked) throw DomainError.notFound('api_key_not_found', `partner ${partnerId} has no active API key ${apiKeyId}`);
    await this.revocations.publish({ apiKeyIds: [apiKeyId] });
  }
}
