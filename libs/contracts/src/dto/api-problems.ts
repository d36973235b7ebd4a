import { applyDecorators } from '@nestjs/common';
import { ApiOperation, ApiResponse } from '@nestjs/swagger';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input; `errors` names each field',
  401: 'Missing, unknown or revoked API key',
  403: 'The key may not act on this partner or route',
  404: 'Not found',
  409: 'Conflict',
  413: 'Body larger than 256 KiB',
  415: 'Body is not JSON',
  429: 'Rate limited; see Retry-After',
  503: 'A dependency is unavailable',
};

/**
 * Documents the problem+json responses a route can give. Every operation needs at least one 4xx
 * (`redocly lint`, run by the OpenAPI test, fails otherwise); a route without authentication can
 * still answer 415 to a body that is not JSON.
 */
export function ApiProblems(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, description: DESCRIPTIONS[status], content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDto' } } } }),
    ),
  );
}

/**
 * A route anyone may call. The document requires the bearer key on every operation unless it says
 * otherwise (its root `security`), so a public route declares an empty `security`.
 */
export function ApiPublic(summary: string): MethodDecorator {
  return ApiOperation({ summary, security: [] });
}
