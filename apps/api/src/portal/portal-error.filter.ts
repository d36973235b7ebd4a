import { type ArgumentsHost, Catch, type ExceptionFilter, Inject, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { clearSessionCookie, readSessionCookie } from '../auth/portal-session-cookie';
import { DomainError } from '../common/domain-error';
import { toDomainError } from '../common/problem.filter';
import { sendPage } from './portal-context';
import { continueSignInPage, errorPage, notSignedInPage } from './views/message.view';

const TITLES: Record<number, string> = {
  400: 'That request is not valid',
  403: 'Not allowed',
  404: 'Not found',
  405: 'Not allowed',
  413: 'Too large',
  429: 'Too many requests',
  503: 'Temporarily unavailable',
};

/** Portal pages answer errors with a page a person can read, never problem+json or a stack trace. */
@Catch()
export class PortalErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('PortalErrorFilter');

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<Request>();
    const response = host.switchToHttp().getResponse<Response>();
    if (response.headersSent) return;
    const error =
      toDomainError(exception, request) ??
      (this.logger.error({ err: exception }, 'unhandled error on a portal page'),
      new DomainError(500, 'internal_error', 'Something went wrong on our side; it has been logged. Try again in a moment.'));
    response.set(error.headers);
    response.removeHeader('WWW-Authenticate');
    if (error.status === 401) {
      // Right after a sign-in link opened from another site the SameSite=Strict cookie is held back once.
      if (request.path === '/portal' && request.headers['sec-fetch-site'] === 'cross-site') return sendPage(response, continueSignInPage());
      if (readSessionCookie(request) !== undefined) clearSessionCookie(response, this.config.nodeEnv === 'production');
      return sendPage(response, notSignedInPage(), 401);
    }
    sendPage(response, errorPage(error.status, TITLES[error.status] ?? 'Something went wrong', error.detail, '/portal'), error.status);
  }
}
