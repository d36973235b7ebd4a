import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKeyEntity, PartnerEntity } from '@callbacks/persistence';
import { PartnerLookup } from './partner-lookup';
import { PartnersController } from './partners.controller';
import { ErasureModule } from '../erasure/erasure.module';
import { CreatePartner } from './use-cases/create-partner.use-case';
import { ErasePartner } from './use-cases/erase-partner.use-case';
import { IssueApiKey } from './use-cases/issue-api-key.use-case';
import { RevokeApiKey } from './use-cases/revoke-api-key.use-case';

@Module({
  imports: [TypeOrmModule.forFeature([PartnerEntity, ApiKeyEntity]), ErasureModule],
  controllers: [PartnersController],
  providers: [PartnerLookup, CreatePartner, IssueApiKey, RevokeApiKey, ErasePartner],
  exports: [PartnerLookup],
})
export class PartnersModule {}
