import { Injectable } from '@nestjs/common';
import { PortalRepository } from '@callbacks/persistence';
import { PartnerLookup } from '../../partners/partner-lookup';

/** The operator ends every portal session and unused sign-in link of a partner at once. */
@Injectable()
export class EndPartnerPortalSessions {
  constructor(
    private readonly partners: PartnerLookup,
    private readonly portal: PortalRepository,
  ) {}

  async execute(partnerId: string): Promise<void> {
    await this.partners.require(partnerId);
    await this.portal.endOfPartner(partnerId);
  }
}
