import type { NextFunction, Request, Response } from 'express';
import { isPortalRequest } from '../portal/portal-http';
import { DomainError } from './domain-error';
import { sendProblem } from './problem.filter';

/** JSON is UTF-8 (RFC 8259): a body in another charset would be stored differently from how it was validated. */
function declaresOtherCharset(request: Request): boolean {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1];
  return charset !== undefined && !/^utf-?8$/i.test(charset);
}

function hasBody(request: Request): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * A request that carries a body must say it is JSON (415 otherwise), so it is never silently
 * ignored. The portal's HTML forms (under /portal) post application/x-www-form-urlencoded.
 */
export function requireJsonBody(request: Request, response: Response, next: NextFunction): void {
  const portalForm = isPortalRequest(request) && Boolean(request.is('application/x-www-form-urlencoded'));
  if (hasBody(request) && !request.is('application/json') && !request.is('application/*+json') && !portalForm) {
    sendProblem(response, new DomainError(415, 'unsupported_media_type', 'the request body must be JSON (Content-Type: application/json)'));
    return;
  }
  if (hasBody(request) && !portalForm && declaresOtherCharset(request)) {
    sendProblem(response, new DomainError(415, 'unsupported_media_type', 'a JSON body must be UTF-8 (charset=utf-8, or no charset)'));
    return;
  }
  next();
}
