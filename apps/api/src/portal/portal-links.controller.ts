import { Controller, Delete, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { PortalLinkDto } from '@callbacks/contracts';
import { type AuditOrigin, AuditedBy } from '../audit/audit-trail';
import { Audience, CurrentPrincipal, NotForPortalSessions, type Principal } from '../auth/principal';
import { ApiProblems } from '../common/api-problems';
import { PartnerIdParam } from '../common/params';
import { CreatePortalLink } from './use-cases/create-portal-link.use-case';
import { EndPartnerPortalSessions } from './use-cases/end-partner-portal-sessions.use-case';

const DESCRIPTION =
  'A one-time link to the partner portal: it works once, within 15 minutes. Opening it shows a page naming the partner with a "Sign in" ' +
  'button; that button sets an HttpOnly, SameSite=Strict session cookie (8 hours from sign-in, never renewed; Secure in production) and ' +
  'redirects to /portal. Hand it to the person who should sign in; anyone holding it can. The link and its session belong to the ' +
  'credential that made it: revoking that API key ends them. A portal session cannot make links (403 portal_session_not_allowed).';

@ApiTags('Portal')
@ApiBearerAuth()
@ApiParam({ name: 'partnerUniqueID', format: 'uuid' })
@Controller()
export class PortalLinksController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly createPortalLink: CreatePortalLink,
    private readonly endPartnerPortalSessions: EndPartnerPortalSessions,
  ) {}

  @Post('admin/partners/:partnerUniqueID/portal-links')
  @Audience('admin')
  @NotForPortalSessions()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a portal sign-in link for a partner (operator key)', description: DESCRIPTION })
  @ApiCreatedResponse({ type: PortalLinkDto })
  @ApiProblems(400, 401, 403, 404)
  forOperator(@PartnerIdParam() partnerId: string, @AuditedBy() origin: AuditOrigin, @Req() request: Request): Promise<PortalLinkDto> {
    return this.create(partnerId, null, origin, request);
  }

  @Post(':partnerUniqueID/portal-links')
  @Audience('partner')
  @NotForPortalSessions()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a portal sign-in link for your own partner', description: DESCRIPTION })
  @ApiCreatedResponse({ type: PortalLinkDto })
  @ApiProblems(400, 401, 403, 404, 429)
  forPartner(
    @PartnerIdParam() partnerId: string,
    @CurrentPrincipal() principal: Principal,
    @AuditedBy() origin: AuditOrigin,
    @Req() request: Request,
  ): Promise<PortalLinkDto> {
    return this.create(partnerId, principal.kind === 'partner' ? principal.apiKeyId : null, origin, request);
  }

  @Delete('admin/partners/:partnerUniqueID/portal-sessions')
  @Audience('admin')
  @HttpCode(204)
  @ApiOperation({
    summary: 'End every portal session and unused sign-in link of a partner (operator key)',
    description:
      'Signed-in browsers of the partner are signed out at once; links already used stay used. ' +
      'Each ended session is written to the audit trail (portal_session_ended).',
  })
  @ApiNoContentResponse()
  @ApiProblems(400, 401, 403, 404)
  endSessions(@PartnerIdParam() partnerId: string, @AuditedBy() origin: AuditOrigin): Promise<void> {
    return this.endPartnerPortalSessions.execute(partnerId, origin);
  }

  private async create(partnerId: string, apiKeyId: string | null, origin: AuditOrigin, request: Request): Promise<PortalLinkDto> {
    const link = await this.createPortalLink.execute(partnerId, apiKeyId, origin);
    const base = this.config.publicBaseUrl ?? `${request.protocol}://${request.get('host') ?? 'localhost'}`;
    return { url: `${base}/portal/sign-in/${link.token}`, expiresAt: link.expiresAt.toISOString() };
  }
}
