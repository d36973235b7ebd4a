import type { DynamicModule } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { DeliveryQueues } from '@callbacks/queue';
import { DeliveryProcessor } from '../src/delivery/delivery.processor';
import { PeriodicPassRunner } from '../src/passes/periodic-pass-runner';
import { type ReconcileReport, Reconciler } from '../src/reconciler/reconciler';

export interface WorkerComponent {
  moduleRef: TestingModule;
  queues: DeliveryQueues;
  /** One reconciler pass, run by hand. */
  runPass(): Promise<ReconcileReport | null>;
}

/**
 * The worker's providers (`workerModule`, WorkerModule.register's), built but not started: no
 * processor takes jobs, no timer runs a pass, for component specs that drive the passes themselves.
 */
export async function workerComponent(workerModule: DynamicModule): Promise<WorkerComponent> {
  const moduleRef = await Test.createTestingModule({ imports: [workerModule] })
    .overrideProvider(DeliveryProcessor)
    .useValue({})
    .compile();
  const runner = moduleRef.get(PeriodicPassRunner);
  const reconciler = moduleRef.get(Reconciler);
  return { moduleRef, queues: moduleRef.get(DeliveryQueues), runPass: () => runner.runOnce(reconciler) };
}
