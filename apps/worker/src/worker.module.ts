import { type DynamicModule, Module } from '@nestjs/common';
import { type AppConfig, APP_CONFIG, ConfigModule } from '@callbacks/config';
import { LoggingModule, OpsModule } from '@callbacks/observability';
import { CallbackOutcomeRepository, DatabaseModule, DeliveryRepository } from '@callbacks/persistence';
import { DeliveryQueueModule } from '@callbacks/queue';
import { CrashQuarantine } from './delivery/crash-quarantine';
import { DeliverNotification } from './delivery/deliver-notification.use-case';
import { DeliveryPolicies } from './delivery/delivery-policies';
import { deliveryProcessors } from './delivery/delivery-processors';
import { HttpSender } from './dispatch/http-sender';
import { CallbackGuard } from './isolation/callback-guard';
import { ParkedDeliveries } from './isolation/parked-deliveries';
import { CallbackLifecycle } from './lifecycle/callback-lifecycle';
import { CaseOrder } from './ordering/case-order';
import { DeliverOperatorEvent } from './lifecycle/deliver-operator-event.use-case';
import { OperatorEvents } from './lifecycle/operator-events';
import { periodicPassProviders } from './passes/periodic-passes';
import { CallbackTransport } from './transport/callback-transport';
import { EgressResources } from './transport/egress-resources';

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
        EgressResources,
        {
          provide: HttpSender,
          inject: [APP_CONFIG, EgressResources],
          useFactory: (appConfig: AppConfig, egress: EgressResources) => {
            const sender = new HttpSender({
              timeoutMs: appConfig.deliveryTimeoutMs,
              allowInsecure: appConfig.allowInsecureCallbacks,
              connectionsPerOrigin: appConfig.workerConcurrency,
              traceparent: appConfig.webhookTraceparent,
              proxyUrl: appConfig.webhookProxyUrl,
              clientCertificate: egress.clientCertificate,
              tokens: egress.tokens,
            });
            egress.onRotation = () => sender.transport.dropAgents();
            return sender;
          },
        },
        CallbackTransport,
        DeliveryRepository,
        CallbackOutcomeRepository,
        DeliveryPolicies,
        CaseOrder,
        CallbackGuard,
        ParkedDeliveries,
        DeliverNotification,
        CrashQuarantine,
        ...deliveryProcessors(config),
        OperatorEvents,
        CallbackLifecycle,
        DeliverOperatorEvent,
        ...periodicPassProviders,
      ],
    };
  }
}
