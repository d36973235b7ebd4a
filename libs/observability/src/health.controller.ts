import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { DeliveryQueues, withTimeout } from '@callbacks/queue';
import { ApiOpsRoute } from './ops-route';

const PING_TIMEOUT_MS = 2_000;

/** Liveness and readiness, the same on the API and on every worker. */
@ApiTags('Operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly queues: DeliveryQueues,
  ) {}

  @Get()
  @ApiOpsRoute('Liveness: the process answers')
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  @ApiOpsRoute('Readiness: 200 only when PostgreSQL and Redis (every queue shard) answer')
  @ApiServiceUnavailableResponse({ description: 'PostgreSQL or Redis does not answer' })
  ready() {
    return this.health.check([() => this.database.pingCheck('postgres', { timeout: PING_TIMEOUT_MS }), () => this.redis()]);
  }

  private async redis() {
    const indicator = this.indicators.check('redis');
    try {
      // Every shard: in a Redis Cluster they live on different masters.
      await withTimeout(Promise.all(this.queues.all.map((queue) => queue.getJobCounts('waiting'))), PING_TIMEOUT_MS, 'Redis');
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }
}
