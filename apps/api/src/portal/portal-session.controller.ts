import { Controller, Get, Inject, Param, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { type AuditOrigin, AuditedBy, requestSource } from '../audit/audit-trail';
import { AuthFailures } from '../auth/auth-failures';
import { clearSessionCookie, readSessionCookie, setSessionCookie } from '../auth/portal-session-cookie';
import { Audience, CurrentPrincipal, type Principal } from '../auth/principal';
import { requestOrigin } from '../auth/request-origin';
import { DomainError } from '../common/domain-error';
import { PortalErrorFilter } from './portal-error.filter';
import { redirectTo, sendPage } from './portal-context';
import { EndPortalSession } from './use-cases/end-portal-session.use-case';
import { OpenPortalLink } from './use-cases/open-portal-link.use-case';
import { ShowPortalLink } from './use-cases/show-portal-link.use-case';
import { linkProblemPage, signedOutPage, signInPage } from './views/message.view';

/** Signing in with a link, the portal's entry point, and signing out. HTML pages, not API routes. */
@ApiExcludeController()
@UseFilters(PortalErrorFilter)
@Controller('portal')
export class PortalSessionController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly showPortalLink: ShowPortalLink,
    private readonly openPortalLink: OpenPortalLink,
    private readonly endPortalSession: EndPortalSession,
    private readonly failures: AuthFailures,
  ) {}

  @Get()
  @Audience('partner')
  home(@CurrentPrincipal() principal: Principal, @Res() response: Response): void {
    if (principal.kind === 'admin')
      throw new DomainError(403, 'forbidden', 'the portal is for partners: open a portal link instead of using the operator key');
    redirectTo(response, `/portal/${principal.partnerId}`);
  }

  /** Changes nothing: names the partner and offers the button that signs in. */
  @Get('sign-in/:token')
  async signInForm(@Param('token') token: string, @Req() request: Request, @Res() response: Response): Promise<void> {
    const link = await this.showPortalLink.execute(token);
    if (link.kind === 'unknown') await this.failures.record(request);
    if (link.kind !== 'usable') {
      sendPage(response, linkProblemPage(link.kind), link.kind === 'unknown' ? 404 : 410);
      return;
    }
    sendPage(response, signInPage(token, link.partnerName));
  }

  /** The sign-in page's button: only a same-origin POST uses the link (no login CSRF from another site). */
  @Post('sign-in/:token')
  async signIn(@Param('token') token: string, @Req() request: Request, @Res() response: Response): Promise<void> {
    refuseUnlessSameOrigin(request);
    const result = await this.openPortalLink.execute(token, requestSource(request), readSessionCookie(request));
    if (result.kind === 'unknown') await this.failures.record(request);
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

/**
 * A browser says where a form POST comes from (Sec-Fetch-Site, Origin); the sign-in is taken only
 * when it says "this origin", so another site cannot sign a visitor in to an account of its choosing.
 */
function refuseUnlessSameOrigin(request: Request): void {
  if (requestOrigin(request) !== 'same-origin')
    throw new DomainError(403, 'forbidden', 'Sign in with the button on the sign-in page: a sign-in from another site is refused.');
}
