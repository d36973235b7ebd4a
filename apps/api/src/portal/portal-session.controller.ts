import { Controller, Get, Inject, Param, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { type AuditOrigin, AuditedBy, requestSource } from '../audit/audit-trail';
import { clearSessionCookie, readSessionCookie, setSessionCookie } from '../auth/portal-session-cookie';
import { Audience, CurrentPrincipal, type Principal } from '../auth/principal';
import { DomainError } from '../common/domain-error';
import { PortalErrorFilter } from './portal-error.filter';
import { redirectTo, sendPage } from './portal-context';
import { EndPortalSession } from './use-cases/end-portal-session.use-case';
import { OpenPortalLink } from './use-cases/open-portal-link.use-case';
import { linkProblemPage, signedOutPage } from './views/message.view';

/** Signing in with a link, the portal's entry point, and signing out. HTML pages, not API routes. */
@ApiExcludeController()
@UseFilters(PortalErrorFilter)
@Controller('portal')
export class PortalSessionController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly openPortalLink: OpenPortalLink,
    private readonly endPortalSession: EndPortalSession,
  ) {}

  @Get()
  @Audience('partner')
  home(@CurrentPrincipal() principal: Principal, @Res() response: Response): void {
    if (principal.kind === 'admin')
      throw new DomainError(403, 'forbidden', 'the portal is for partners: open a portal link instead of using the operator key');
    redirectTo(response, `/portal/${principal.partnerId}`);
  }

  @Get('sign-in/:token')
  async signIn(@Param('token') token: string, @Req() request: Request, @Res() response: Response): Promise<void> {
    const result = await this.openPortalLink.execute(token, requestSource(request), readSessionCookie(request));
    if (result.kind !== 'signed_in') {
      sendPage(response, linkProblemPage(result.kind), result.kind === 'unknown' ? 404 : 410);
      return;
    }
    setSessionCookie(response, result.sessionToken, this.secureCookies);
    redirectTo(response, '/portal');
  }

  @Post('sign-out')
  @Audience('partner')
  async signOut(@CurrentPrincipal() principal: Principal, @AuditedBy() origin: AuditOrigin, @Res() response: Response): Promise<void> {
    if (principal.kind === 'portal')
      await this.endPortalSession.execute({ id: principal.sessionId, partnerId: principal.partnerId }, origin);
    clearSessionCookie(response, this.secureCookies);
    redirectTo(response, '/portal/signed-out');
  }

  @Get('signed-out')
  signedOut(@Res() response: Response): void {
    sendPage(response, signedOutPage());
  }

  private get secureCookies(): boolean {
    return this.config.nodeEnv === 'production';
  }
}
