import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { dataSourceOptions } from './data-source';
import { AuditRepository } from './repositories/audit.repository';
import { CallbackRepository } from './repositories/callback.repository';
import { IdempotencyKeyRepository } from './repositories/idempotency-key.repository';
import { NotificationRepository } from './repositories/notification.repository';
import { OperatorEventRepository } from './repositories/operator-event.repository';
import { PartnerRepository } from './repositories/partner.repository';
import { PortalRepository } from './repositories/portal.repository';

/**
 * The repositories on TypeORM's connection pool, one per aggregate; every module of an app may
 * inject them. (The worker's hot-path repositories with pools of their own, DeliveryRepository and
 * CallbackOutcomeRepository, are provided by the worker.)
 */
const REPOSITORIES = [
  AuditRepository,
  CallbackRepository,
  IdempotencyKeyRepository,
  NotificationRepository,
  OperatorEventRepository,
  PartnerRepository,
  PortalRepository,
];

/** TypeORM for a Nest app, from the validated configuration, and the repositories over it. */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions(config.databaseUrl, 10, config.databaseStatementTimeoutMs),
        retryAttempts: 2,
        retryDelay: 1_000,
      }),
    }),
  ],
  providers: REPOSITORIES,
  exports: REPOSITORIES,
})
export class DatabaseModule {}
