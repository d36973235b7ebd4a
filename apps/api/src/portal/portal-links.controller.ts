import { Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { PortalLinkDto } from '@callbacks/contracts';
import { type AuditOrigin, AuditedBy } from '../audit/audit-trail';
import { Audience } from '../auth/principal';
import { ApiProblems } from '../common/api-problems';
import { PartnerIdParam } from '../common/params';
import { CreatePortalLink } from './use-cases/create-portal-link.use-case';

const DESCRIPTION =
  'A one-time link to the partner portal: it works once, within 15 minutes. Opening it sets an HttpOnly, SameSite=Strict session cookie ' +
  '(8 hours, Secure in production) and redirects to /portal. Hand it to the person who should sign in; anyone holding it can.';

@ApiTags('Portal')
@ApiBearerAuth()
@ApiParam({ name: 'partnerUniqueID', format: 'uuid' })
@Controller()
export class PortalLinksController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly createPortalLink: CreatePortalLink,
  ) {}

  @Post('admin/partners/:partnerUniqueID/portal-links')
  @Audience('admin')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a portal sign-in link for a partner (operator key)', description: DESCRIPTION })
  @ApiCreatedResponse({ type: PortalLinkDto })
  @ApiProblems(400, 401, 403, 404)
  forOperator(@PartnerIdParam() partnerId: string, @AuditedBy() origin: AuditOrigin, @Req() request: Request): Promise<PortalLinkDto> {
    return this.create(partnerId, origin, request);
  }

  @Post(':partnerUniqueID/portal-links')
  @Audience('partner')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a portal sign-in link for your own partner', description: DESCRIPTION })
  @ApiCreatedResponse({ type: PortalLinkDto })
  @ApiProblems(400, 401, 403, 404, 429)
  forPartner(@PartnerIdParam() partnerId: string, @AuditedBy() origin: AuditOrigin, @Req() request: Request): Promise<PortalLinkDto> {
    return this.create(partnerId, origin, request);
  }

  private async create(partnerId: string, origin: AuditOrigin, request: Request): Promise<PortalLinkDto> {
    const link = await this.createPortalLink.execute(partnerId, origin);
    const base = this.config.publicBaseUrl ?? `${request.protocol}://${request.get('host') ?? 'localhost'}`;
    return { url: `${base}/portal/sign-in/${link.token}`, expiresAt: link.expiresAt.toISOString() };
  }
}
