import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import { PROBLEM_CONTENT_TYPE, type ErrorCode, type ProblemDetails } from '@callbacks/contracts';
import { DomainError } from './domain-error';

/** Errors raised by body-parser carry a `type`. */
interface BodyParserError {
  type?: string;
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'route_not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'service_unavailable',
};

/** Connection-level failures (refused, reset, terminated, pool timeout) and PostgreSQL's admin shutdown codes. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08006',
]);
const UNAVAILABLE_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection refused/i;

function isDependencyDown(exception: unknown): boolean {
  const error = exception as { code?: unknown; message?: unknown; driverError?: { code?: unknown; message?: unknown } } | null;
  const candidates = [error, error?.driverError];
  return candidates.some(
    (candidate) =>
      (typeof candidate?.code === 'string' && UNAVAILABLE_CODES.has(candidate.code)) ||
      (typeof candidate?.message === 'string' && UNAVAILABLE_MESSAGE.test(candidate.message)),
  );
}

/** The DomainError an exception stands for, or null for an unexpected one (a 500, to be logged). */
export function toDomainError(exception: unknown, request: Request): DomainError | null {
  if (exception instanceof DomainError) return exception;
  if (isDependencyDown(exception)) {
    return new DomainError(503, 'service_unavailable', 'the database is unavailable; nothing was stored, retry shortly', undefined, {
      'Retry-After': '5',
    });
  }
  // Nest wraps body-parser's errors in an HttpException whose cause is the original error.
  const bodyError = (exception instanceof HttpException ? exception.cause : exception) as BodyParserError | undefined;
  if (bodyError?.type === 'entity.parse.failed') return new DomainError(400, 'malformed_json', 'the request body is not valid JSON');
  if (bodyError?.type === 'entity.too.large') return new DomainError(413, 'payload_too_large', 'the request body is larger than 256 KiB');
  if (bodyError?.type === 'encoding.unsupported' || bodyError?.type === 'charset.unsupported') {
    return new DomainError(415, 'unsupported_media_type', 'the request body must be UTF-8 JSON');
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    if (status === 404) return new DomainError(404, 'route_not_found', `no route for ${request.method} ${request.path}`);
    const code = CODE_BY_STATUS[status];
    if (status === 503) {
      // Terminus's readiness report: keep which dependency is down.
      const report = exception.getResponse();
      return new DomainError(
        503,
        'service_unavailable',
        'not ready: a dependency does not answer',
        undefined,
        {},
        typeof report === 'object' && report !== null ? { checks: report } : {},
      );
    }
    if (code && status < 500) return new DomainError(status, code, exception.message);
  }
  return null;
}

/** Writes an error as RFC 9457 problem+json. */
export function sendProblem(response: Response, error: DomainError): void {
  const problem: ProblemDetails = {
    type: 'about:blank',
    title: STATUS_CODES[error.status] ?? 'Error',
    status: error.status,
    detail: error.detail,
    code: error.code,
    ...(error.errors ? { errors: error.errors } : {}),
    ...error.extensions,
  };
  response.status(error.status).set(error.headers).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
}

/** Maps every error to problem+json; unexpected ones become a 500 without internals. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const error =
      toDomainError(exception, request) ??
      (this.logger.error({ err: exception }, 'unhandled error'),
      new DomainError(500, 'internal_error', 'an unexpected error occurred; it has been logged'));
    if (!response.headersSent) sendProblem(response, error);
  }
}
