import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { Metrics } from './metrics';
import { MetricsController } from './metrics.controller';
import { RedisErrorReporter } from './redis-error-reporter';

/** /health, /health/ready and /metrics (the importing app registers the delivery queue). */
@Global()
@Module({
  imports: [TerminusModule],
  controllers: [HealthController, MetricsController],
  providers: [Metrics, RedisErrorReporter],
  exports: [Metrics, RedisErrorReporter],
})
export class OpsModule {}
