import { type DynamicModule, Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { BullMQOtel } from 'bullmq-otel';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { DELIVERY_QUEUE } from './delivery-queue';
import { redisConnectionOptions } from './redis-connection';

/**
 * BullMQ on REDIS_URL under QUEUE_PREFIX, with the delivery queue registered. With tracing on,
 * BullMQ's telemetry (bullmq-otel) puts the producer's trace context in each job, and the worker's
 * job span continues that trace; without it, no telemetry object exists at all.
 */
@Module({})
export class DeliveryQueueModule {
  static register(role: 'worker' | 'producer'): DynamicModule {
    return {
      module: DeliveryQueueModule,
      global: true,
      imports: [
        BullModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => ({
            connection: redisConnectionOptions(config.redisUrl, role),
            prefix: config.queuePrefix,
            ...(config.tracingEnabled ? { telemetry: new BullMQOtel({ tracerName: 'bullmq' }) } : {}),
          }),
        }),
        BullModule.registerQueue({ name: DELIVERY_QUEUE }),
      ],
      exports: [BullModule],
    };
  }
}
