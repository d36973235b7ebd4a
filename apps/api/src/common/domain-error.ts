import type { ErrorCode, FieldError } from '@callbacks/contracts';

/**
 * The one way the API raises an error: a status, a stable code and a detail that names what is
 * wrong. ProblemFilter turns it into application/problem+json.
 */
export class DomainError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    readonly detail: string,
    readonly errors?: FieldError[],
    /** Extra response headers, e.g. Retry-After or WWW-Authenticate. */
    readonly headers: Record<string, string> = {},
    /** RFC 9457 extension members, e.g. the failed checks of a readiness probe. */
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'DomainError';
  }

  static validation(errors: FieldError[]): DomainError {
    const detail = errors.map((error) => `${error.field} ${error.message}`).join('; ');
    return new DomainError(400, 'validation_failed', detail, errors);
  }

  static notFound(code: ErrorCode, detail: string): DomainError {
    return new DomainError(404, code, detail);
  }
}
