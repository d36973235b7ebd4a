import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { PartnerEntity } from '@callbacks/persistence';
import { DomainError } from '../common/domain-error';

/** "No such partner" is the same 404 on every route. */
@Injectable()
export class PartnerLookup {
  constructor(@InjectRepository(PartnerEntity) private readonly partners: Repository<PartnerEntity>) {}

  async require(partnerId: string): Promise<void> {
    const exists = await this.partners.exists({ where: { id: partnerId } });
    if (!exists) throw DomainError.notFound('partner_not_found', `partner ${partnerId} does not exist`);
  }
}
