import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input; `errors` names each field',
  401: 'Missing, unknown or revoked API key',
  403: 'The key may not act on this partner or route',
  404: 'Not found',
  409: 'Conflict',
  413: 'Body larger than 256 KiB',
  415: 'Body is not JSON',
  422: 'Understood but refused; `detail` says why (e.g. too many JSON values, an Idempotency-Key reused, a recovery window over 10,000)',
  429: 'Rate limited; see Retry-After',
  503: 'A dependency is unavailable',
};

/** Documents the problem+json responses a route can give. */
export function ApiProblems(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: DESCRIPTIONS[status],
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDto' } } },
      }),
    ),
  );
}
