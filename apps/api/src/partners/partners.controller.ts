import { Body, Controller, Delete, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyCreatedDto, CreatePartnerDto, PartnerCreatedDto } from '@callbacks/contracts';
import { type AuditOrigin, AuditedBy } from '../audit/audit-trail';
import { Audience, NotForPortalSessions } from '../auth/principal';
import { ApiProblems } from '../common/api-problems';
import { PartnerIdParam, UuidParam } from '../common/params';
import { CreatePartner } from './use-cases/create-partner.use-case';
import { ErasePartner } from './use-cases/erase-partner.use-case';
import { IssueApiKey } from './use-cases/issue-api-key.use-case';
import { RevokeApiKey } from './use-cases/revoke-api-key.use-case';

@ApiTags('Admin')
@ApiBearerAuth()
@Audience('admin')
@NotForPortalSessions()
@Controller('admin/partners')
export class PartnersController {
  constructor(
    private readonly createPartner: CreatePartner,
    private readonly issueApiKey: IssueApiKey,
    private readonly revokeApiKey: RevokeApiKey,
    private readonly erasePartner: ErasePartner,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a partner and its first API key' })
  @ApiCreatedResponse({ type: PartnerCreatedDto })
  @ApiProblems(400, 401, 403)
  create(@Body() body: CreatePartnerDto, @AuditedBy() origin: AuditOrigin): Promise<PartnerCreatedDto> {
    return this.createPartner.execute(body.name, origin);
  }

  @Post(':partnerUniqueID/api-keys')
  @ApiOperation({ summary: 'Issue another API key (existing keys keep working until revoked)' })
  @ApiCreatedResponse({ type: ApiKeyCreatedDto })
  @ApiProblems(400, 401, 403, 404)
  issueKey(@PartnerIdParam() partnerId: string, @AuditedBy() origin: AuditOrigin): Promise<ApiKeyCreatedDto> {
    return this.issueApiKey.execute(partnerId, origin);
  }

  @Delete(':partnerUniqueID/api-keys/:apiKeyId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key' })
  @ApiNoContentResponse()
  @ApiProblems(400, 401, 403, 404)
  revokeKey(@PartnerIdParam() partnerId: string, @UuidParam('apiKeyId') apiKeyId: string, @AuditedBy() origin: AuditOrigin): Promise<void> {
    return this.revokeApiKey.execute(partnerId, apiKeyId, origin);
  }

  @Delete(':partnerUniqueID')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Erase a partner and all its data',
    description:
      'Deletes the partner, its API keys (they answer 401 at once), its callbacks and signing secrets, its notifications with their attempts ' +
      'and idempotency keys, its queued jobs and its Redis state. Nothing pending of it is sent. Written to the audit log and the audit trail, whose entries of the partner are kept.',
  })
  @ApiNoContentResponse()
  @ApiProblems(400, 401, 403, 404)
  erase(@PartnerIdParam() partnerId: string, @AuditedBy() origin: AuditOrigin): Promise<void> {
    return this.erasePartner.execute(partnerId, origin);
  }
}
