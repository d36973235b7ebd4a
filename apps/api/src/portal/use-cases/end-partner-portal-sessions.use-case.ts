import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PortalRepository } from '@callbacks/persistence';
import { type AuditOrigin, AuditTrail, portalSessionEnded } from '../../audit/audit-trail';
import { PartnerLookup } from '../../partners/partner-lookup';

/** The operator ends every portal session and unused sign-in link of a partner at once; each ended session is audited in the same transaction. */
@Injectable()
export class EndPartnerPortalSessions {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly partners: PartnerLookup,
    private readonly portal: PortalRepository,
    private readonly audit: AuditTrail,
  ) {}

  async execute(partnerId: string, origin: AuditOrigin): Promise<void> {
    await this.partners.require(partnerId);
    await this.dataSource.transaction(async (manager) => {
      for (const sessionId of await this.portal.endOfPartner(partnerId, manager))
        await this.audit.record(origin, portalSessionEnded(partnerId, sessionId, 'ended_by_operator'), manager);
    });
  }
}
