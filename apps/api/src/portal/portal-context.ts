import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { FieldError } from '@callbacks/contracts';
import { auditActor, auditOrigin } from '../audit/audit-trail';
import { csrfTokenFor, readSessionCookie } from '../auth/portal-session-cookie';
import type { AuthenticatedRequest } from '../auth/principal';
import { DomainError } from '../common/domain-error';
import { PartnerIdPipe } from '../common/params';
import type { SafeHtml } from './views/html';
import type { PortalContext } from './views/layout';

/**
 * The partner a portal page acts on and the CSRF token for its forms. AuthGuard has already made
 * sure the caller may act on the partner in the path, exactly as on the API's routes.
 */
export const Portal = createParamDecorator((_data: unknown, context: ExecutionContext): PortalContext => {
  const request = context.switchToHttp().getRequest<Request & AuthenticatedRequest>();
  const partnerId = new PartnerIdPipe().transform(request.params.partnerUniqueID as string);
  const principal = request.principal;
  if (!principal) throw new Error('Portal used on a route without an Audience');
  const sessionToken = principal.kind === 'portal' ? readSessionCookie(request) : undefined;
  return {
    partnerId,
    partnerName: principal.kind === 'portal' ? principal.partnerName : null,
    csrfToken: sessionToken ? csrfTokenFor(sessionToken) : '',
    origin: auditOrigin(request, auditActor(principal)),
  };
});

export function sendPage(response: Response, page: SafeHtml, status = 200): void {
  response.status(status).type('html').send(page.text);
}

/** POST-redirect-GET: 303, so a reload never repeats the change. */
export function redirectTo(response: Response, location: string): void {
  response.redirect(303, location);
}

/**
 * The field errors of a refused form (the API's own validation messages), or null when the error
 * is not about the input (not signed in, forbidden, rate limited, a fault): those get their own page.
 */
export function formErrors(error: unknown): FieldError[] | null {
  if (!(error instanceof DomainError) || error.status < 400 || error.status >= 500 || [401, 403, 429].includes(error.status)) return null;
  return error.errors ?? [{ field: 'form', message: error.detail }];
}

/** A form field as the single string it must be. */
export function formText(form: Record<string, unknown>, name: string): string {
  const value = form[name];
  return typeof value === 'string' ? value : '';
}

const NOTICES: Record<string, string> = {
  created: 'Callback created. Reveal its signing secret when you set up your receiver.',
  saved: 'Callback saved.',
  enabled: 'Callback enabled.',
  disabled: 'Callback disabled: its events are recorded as skipped until you enable it again.',
  deleted: 'Callback deleted.',
  rotated: 'New signing secret made. For 24 hours every delivery is signed with both the new and the old secret.',
  echo: 'Test echo accepted. This page refreshes until it has been delivered.',
  redelivered: 'Redelivery queued: one new attempt now, with the same webhook-id.',
  recovering:
    'Recovery started: each failed notification of this type in the window has a new delivery round, with its webhook-id kept; the delivery log shows them.',
};

/** The notice after a redirect: a fixed text picked by key, so nothing from the URL is shown. */
export function notice(done: unknown): string | undefined {
  return typeof done === 'string' && Object.hasOwn(NOTICES, done) ? NOTICES[done] : undefined;
}
