import { Module } from '@nestjs/common';
import { AccessRevocations } from '../auth/access-revocations';
import { ApiKeyCache } from '../auth/api-key-cache';
import { AuthFailures } from '../auth/auth-failures';
import { CredentialMac } from '../auth/credential-mac';
import { UnknownCredentials } from '../auth/unknown-credentials';
import { PartnerLookup } from './partner-lookup';
import { PartnersController } from './partners.controller';
import { ErasureModule } from '../erasure/erasure.module';
import { CreatePartner } from './use-cases/create-partner.use-case';
import { ErasePartner } from './use-cases/erase-partner.use-case';
import { IssueApiKey } from './use-cases/issue-api-key.use-case';
import { RevokeApiKey } from './use-cases/revoke-api-key.use-case';

@Module({
  imports: [ErasureModule],
  controllers: [PartnersController],
  providers: [
    PartnerLookup,
    ApiKeyCache,
    AccessRevocations,
    CredentialMac,
    UnknownCredentials,
    AuthFailures,
    CreatePartner,
    IssueApiKey,
    RevokeApiKey,
    ErasePartner,
  ],
  exports: [PartnerLookup, ApiKeyCache, CredentialMac, UnknownCredentials, AuthFailures],
})
export class PartnersModule {}
