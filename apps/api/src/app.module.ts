import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { type AppConfig, ConfigModule } from '@callbacks/config';
import { LoggingModule, OpsModule } from '@callbacks/observability';
import { DatabaseModule } from '@callbacks/persistence';
import { DeliveryQueueModule } from '@callbacks/queue';
import { AuditModule } from './audit/audit.module';
import { AuthGuard } from './auth/auth.guard';
import { ApiRedisModule } from './common/api-redis';
import { RateLimitGuard } from './common/rate-limit.guard';
import { RateLimitModule } from './common/sliding-window-limiter';
import { CallbacksModule } from './callbacks/callbacks.module';
import { NotificationsModule } from './notifications/notifications.module';
import { QueueBoardModule } from './ops/bull-board.module';
import { PartnersModule } from './partners/partners.module';
import { PortalModule } from './portal/portal.module';

@Module({})
export class AppModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.register(config),
        LoggingModule.register(config),
        DatabaseModule,
        DeliveryQueueModule.register('producer', config),
        ApiRedisModule,
        RateLimitModule,
        AuditModule,
        PartnersModule,
        CallbacksModule,
        NotificationsModule,
        OpsModule,
        QueueBoardModule.register(config),
        PortalModule,
      ],
      providers: [
        // Guards run in this order: who is calling, then whether they are over their budget.
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_GUARD, useClass: RateLimitGuard },
      ],
    };
  }
}
