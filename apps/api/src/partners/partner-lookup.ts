import { Injectable } from '@nestjs/common';
import { PartnerRepository } from '@callbacks/persistence';
import { DomainError } from '../common/domain-error';

/** "No such partner" is the same 404 on every route. */
@Injectable()
export class PartnerLookup {
  constructor(private readonly partners: PartnerRepository) {}

  async require(partnerId: string): Promise<void> {
    const exists = await this.partners.exists(partnerId);
    if (!exists) throw DomainError.notFound('partner_not_found', `partner ${partnerId} does not exist`);
  }
}
