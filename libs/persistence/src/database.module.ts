import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { dataSourceOptions } from './data-source';

/** TypeORM for a Nest app, from the validated configuration. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({ ...dataSourceOptions(config.databaseUrl, 10), retryAttempts: 2, retryDelay: 1_000 }),
    }),
  ],
})
export class DatabaseModule {}
