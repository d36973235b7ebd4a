import type { DeliveryLimits } from '@callbacks/contracts';
import type { NotificationUpdate } from '@callbacks/persistence';
import { type AttemptOutcome, describeOutcome } from '../dispatch/attempt-outcome';
import { nextStep } from '../dispatch/next-step';
import type { RetryPolicy } from '../dispatch/retry-policy';

/** What the processor must do with a job after one run (partner deliveries and operator events alike). */
export type DeliveryResult =
  | { kind: 'delivered'; attempt: number }
  | { kind: 'retry'; attempt: number; delayMs: number; summary: string }
  | { kind: 'failed'; attempt: number; reason: string; summary: string }
  /** `settle`: a slot may be handed to the job before it is delayed; the processor then wakes it (ParkedDeliveries.settle). */
  | { kind: 'parked'; delayMs: number; limits: DeliveryLimits; settle: boolean }
  | { kind: 'held'; delayMs: number; waitingFor: string }
  | { kind: 'nothing_to_do'; reason: string };

/** The result of a run that made an attempt. */
export type AttemptResult = Extract<DeliveryResult, { kind: 'delivered' | 'retry' | 'failed' }>;

/**
 * decide(): after an attempt of a notification whose counts (before it) are `counts`, the
 * notification's next state and the job's result, by the outcome rule (see dispatch/next-step).
 * A partner's 410 ends the notification failed (callback_gone); the caller disables the callback.
 */
export function decideDelivery(
  counts: { attemptCount: number; roundAttempts: number },
  outcome: AttemptOutcome,
  policy: RetryPolicy,
  now: number,
): { next: NotificationUpdate; result: AttemptResult } {
  const attempt = counts.attemptCount + 1;
  const step = nextStep(outcome, counts.roundAttempts + 1, policy, now, { goneDisables: true });
  if (step.kind === 'delivered') {
    return { next: { status: 'delivered', statusReason: null, nextAttemptAt: null }, result: { kind: 'delivered', attempt } };
  }
  const summary = `attempt ${attempt}: ${describeOutcome(outcome)}`;
  if (step.kind === 'fail') {
    return {
      next: { status: 'failed', statusReason: step.reason, nextAttemptAt: null },
      result: { kind: 'failed', attempt, reason: step.reason, summary },
    };
  }
  return {
    next: { status: 'pending', statusReason: null, nextAttemptAt: new Date(now + step.delayMs) },
    result: { kind: 'retry', attempt, delayMs: step.delayMs, summary },
  };
}
