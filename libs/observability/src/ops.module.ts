import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';

/** /health and /health/ready (the importing app registers the delivery queue). */
@Module({
  imports: [TerminusModule],
  controllers: [HealthController],
})
export class OpsModule {}
