import { Module } from '@nestjs/common';
import { CallbacksModule } from '../callbacks/callbacks.module';
import { PartnersModule } from '../partners/partners.module';
import { DeliveryScheduler } from './delivery-scheduler';
import { IntakeInDoubt } from './intake-in-doubt';
import { NotificationIntake } from './notification-intake';
import { NotificationsController } from './notifications.controller';
import { RecoveryController } from './recovery.controller';
import { GetNotification } from './use-cases/get-notification.use-case';
import { ListNotifications } from './use-cases/list-notifications.use-case';
import { PublishNotification } from './use-cases/publish-notification.use-case';
import { PublishNotificationBatch } from './use-cases/publish-notification-batch.use-case';
import { RecoverNotifications } from './use-cases/recover-notifications.use-case';
import { RedeliverNotification } from './use-cases/redeliver-notification.use-case';
import { SendTestNotification } from './use-cases/send-test-notification.use-case';

@Module({
  imports: [PartnersModule, CallbacksModule],
  controllers: [NotificationsController, RecoveryController],
  providers: [
    DeliveryScheduler,
    IntakeInDoubt,
    NotificationIntake,
    SendTestNotification,
    PublishNotification,
    PublishNotificationBatch,
    ListNotifications,
    GetNotification,
    RedeliverNotification,
    RecoverNotifications,
  ],
  exports: [SendTestNotification, ListNotifications, GetNotification, RedeliverNotification, RecoverNotifications],
})
export class NotificationsModule {}
