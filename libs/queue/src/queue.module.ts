import { type DynamicModule, Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { DELIVERY_QUEUE } from './delivery-queue';
import { redisConnectionOptions } from './redis-connection';

/** BullMQ on REDIS_URL under QUEUE_PREFIX, with the delivery queue registered. */
@Module({})
export class DeliveryQueueModule {
  static register(role: 'worker' | 'producer'): DynamicModule {
    return {
      module: DeliveryQueueModule,
      global: true,
      imports: [
        BullModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => ({ connection: redisConnectionOptions(config.redisUrl, role), prefix: config.queuePrefix }),
        }),
        BullModule.registerQueue({ name: DELIVERY_QUEUE }),
      ],
      exports: [BullModule],
    };
  }
}
