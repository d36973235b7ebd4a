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

/**
 * Documents the 503 of an intake route (backpressure): the intake queue is full (`intake_queue_full`),
 * the commit did not finish within INTAKE_TIMEOUT_MS (`intake_timeout`), or the database is down
 * (`service_unavailable`). Nothing is stored, or a retry with the same Idempotency-Key replays it.
 */
export function ApiIntakeUnavailable(): MethodDecorator & ClassDecorator {
  return ApiResponse({
    status: 503,
    description:
      'Backpressure: the intake queue is full (`intake_queue_full`, INTAKE_QUEUE_MAX / INTAKE_QUEUE_MAX_BYTES), the database did not commit within INTAKE_TIMEOUT_MS (`intake_timeout`), or it is unavailable (`service_unavailable`). Nothing was stored, and nothing is delivered unless the request is retried (with an Idempotency-Key the retry replays what was written). Retry after Retry-After seconds.',
    headers: { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } } },
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDto' } } },
  });
}
