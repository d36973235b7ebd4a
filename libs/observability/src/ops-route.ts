import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ApiPublic } from '@callbacks/contracts';

/**
 * /health, /health/ready and /metrics in the OpenAPI document: public, and (on the API, like every
 * route) answering 415 problem+json to a request body that is not JSON.
 */
export function ApiOpsRoute(summary: string): MethodDecorator {
  return applyDecorators(
    ApiPublic(summary),
    ApiResponse({
      status: 415,
      description: 'Body is not JSON',
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDto' } } },
    }),
  );
}
