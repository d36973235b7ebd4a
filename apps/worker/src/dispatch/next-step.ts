import type { AttemptOutcome } from './attempt-outcome';
import { parseRetryAfter, type RetryPolicy } from './retry-policy';

/** Why a delivery ends failed after an attempt; callback_gone: a 410 answer, which also disables the callback. */
export type FailReason = 'blocked_address' | 'retries_exhausted' | 'callback_gone';

/** What follows an attempt, for everything the worker POSTs (partner webhooks, operator events). */
export type NextStep = { kind: 'delivered' } | { kind: 'retry'; delayMs: number } | { kind: 'fail'; reason: FailReason };

/** Answers that ask the sender to slow down (CONTRACT §7): their Retry-After is the least wait before the next attempt. */
const SLOW_DOWN_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** The wait a slow-down answer asks for, in ms from `now`; null when the answer does not ask (or says nothing readable). */
export function requestedWaitMs(outcome: Pick<AttemptOutcome, 'statusCode' | 'retryAfter'>, now = Date.now()): number | null {
  return outcome.statusCode !== null && SLOW_DOWN_STATUSES.has(outcome.statusCode) ? parseRetryAfter(outcome.retryAfter, now) : null;
}

/** The answer with which a receiver says it wants no more (Standard Webhooks). */
const GONE = 410;

/**
 * The outcome rule. `attemptInRound` is the attempt's place in its round of the retry schedule
 * (1 for the first); a success is delivered, a refused address fails at once (it will not become
 * public by waiting: retrying would only knock again), and so does a 410 where `goneDisables` (a
 * partner's callback, which the caller then disables; an operator's endpoint is ours to fix, so
 * there a 410 is retried like any failure). Any other failure waits for the schedule's next delay,
 * at least what a slow-down answer asked for, or fails when the schedule is over.
 */
export function nextStep(
  outcome: AttemptOutcome,
  attemptInRound: number,
  policy: RetryPolicy,
  now = Date.now(),
  { goneDisables = false }: { goneDisables?: boolean } = {},
): NextStep {
  if (outcome.ok) return { kind: 'delivered' };
  if (outcome.error === 'blocked_address') return { kind: 'fail', reason: 'blocked_address' };
  if (goneDisables && outcome.statusCode === GONE) return { kind: 'fail', reason: 'callback_gone' };
  const { delayMs } = policy.next(attemptInRound, requestedWaitMs(outcome, now));
  return delayMs === null ? { kind: 'fail', reason: 'retries_exhausted' } : { kind: 'retry', delayMs };
}
