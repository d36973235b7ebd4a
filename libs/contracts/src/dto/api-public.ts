import { ApiOperation } from '@nestjs/swagger';

/**
 * A route anyone may call. The OpenAPI document requires the bearer key on every operation unless
 * it says otherwise (its root `security`), so a public route declares an empty `security`.
 */
export function ApiPublic(summary: string): MethodDecorator {
  return ApiOperation({ summary, security: [] });
}
