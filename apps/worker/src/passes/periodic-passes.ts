import type { Provider } from '@nestjs/common';
import { OperatorEventReconciler } from '../lifecycle/operator-event-reconciler';
import { Reconciler } from '../reconciler/reconciler';
import { RetentionSweep } from '../retention/retention-sweep';
import { PERIODIC_PASSES } from './periodic-pass';
import { PeriodicPassRunner } from './periodic-pass-runner';

/**
 * Every periodic pass of the worker. A new one is a class implementing PeriodicPass (its name,
 * interval, lock, metric and body) in the folder of what it works on, with its lock id added to
 * DatabaseLock (@callbacks/persistence) and its runs counter to Metrics; list it here, and the runner
 * runs it.
 */
const PASSES = [Reconciler, OperatorEventReconciler, RetentionSweep];

/** The worker module's providers for the passes and their runner. */
export const periodicPassProviders: Provider[] = [
  ...PASSES,
  { provide: PERIODIC_PASSES, inject: PASSES, useFactory: (...passes: unknown[]) => passes },
  PeriodicPassRunner,
];
