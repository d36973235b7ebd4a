import { type DynamicModule, Module } from '@nestjs/common';
import { type AppConfig, APP_CONFIG, ConfigModule } from '@callbacks/config';
import { LoggingModule, OpsModule } from '@callbacks/observability';
import { DatabaseModule } from '@callbacks/persistence';
import { DeliveryQueueModule } from '@callbacks/queue';
import { DeliverNotification } from './delivery/deliver-notification.use-case';
import { deliveryProcessors } from './delivery/delivery-processors';
import { DeliveryStore } from './delivery/delivery-store';
import { HttpSender } from './delivery/http-sender';
import { CallbackGuard } from './isolation/callback-guard';
import { ParkedDeliveries } from './isolation/parked-deliveries';
import { CallbackLifecycle } from './lifecycle/callback-lifecycle';
import { DeliverOperatorEvent } from './lifecycle/deliver-operator-event.use-case';
import { OperatorEventReconciler } from './lifecycle/operator-event-reconciler';
import { OperatorEvents } from './lifecycle/operator-events';
import { Reconciler } from './reconciler/reconciler';
import { RetentionSweep } from './retention/retention-sweep';

@Module({})
export class WorkerModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.register(config),
        LoggingModule.register(config),
        DatabaseModule,
        DeliveryQueueModule.register('worker', config),
        OpsModule,
      ],
      providers: [
        {
          provide: HttpSender,
          inject: [APP_CONFIG],
          useFactory: (appConfig: AppConfig) =>
            new HttpSender({
              timeoutMs: appConfig.deliveryTimeoutMs,
              allowInsecure: appConfig.allowInsecureCallbacks,
              connectionsPerOrigin: appConfig.workerConcurrency,
              traceparent: appConfig.webhookTraceparent,
            }),
        },
        DeliveryStore,
        CallbackGuard,
        ParkedDeliveries,
        DeliverNotification,
        ...deliveryProcessors(config),
        Reconciler,
        OperatorEvents,
        CallbackLifecycle,
        DeliverOperatorEvent,
        OperatorEventReconciler,
        RetentionSweep,
      ],
    };
  }
}
