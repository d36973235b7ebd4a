export * from './data-source';
export * from './database-setup';
export * from './entities/api-key.entity';
export * from './entities/callback.entity';
export * from './entities/delivery-attempt.entity';
export * from './entities/notification.entity';
export * from './entities/partner.entity';
export * from './database.module';
