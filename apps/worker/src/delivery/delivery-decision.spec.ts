import type { AttemptOutcome } from '../dispatch/attempt-outcome';
import { RetryPolicy } from '../dispatch/retry-policy';
import { decideDelivery } from './delivery-decision';

const now = Date.parse('2026-11-26T10:00:00Z');
const policy = new RetryPolicy([5_000, 300_000], () => 0.5);
const failed = (fields: Partial<AttemptOutcome> = {}): AttemptOutcome => ({
  ok: false,
  statusCode: 500,
  error: null,
  durationMs: 12,
  responseBody: null,
  retryAfter: undefined,
  ...fields,
});

describe('decideDelivery', () => {
  it('numbers the attempt over all rounds, and finds its place in the schedule from the round alone', () => {
    // A redelivered notification: 5 attempts in earlier rounds, 1 in this one.
    const { next, result } = decideDelivery({ attemptCount: 6, roundAttempts: 1 }, failed(), policy, now);
    expect(result).toEqual({ kind: 'retry', attempt: 7, delayMs: 300_000, summary: 'attempt 7: HTTP 500 in 12 ms' });
    expect(next).toEqual({ status: 'pending', statusReason: null, nextAttemptAt: new Date(now + 300_000) });
  });

  it('delivers on success', () => {
    expect(decideDelivery({ attemptCount: 0, roundAttempts: 0 }, failed({ ok: true, statusCode: 200 }), policy, now)).toEqual({
      next: { status: 'delivered', statusReason: null, nextAttemptAt: null },
      result: { kind: 'delivered', attempt: 1 },
    });
  });

  it('fails after the last scheduled retry, and a refused address at once', () => {
    expect(decideDelivery({ attemptCount: 2, roundAttempts: 2 }, failed({ statusCode: 503 }), policy, now)).toMatchObject({
      next: { status: 'failed', statusReason: 'retries_exhausted', nextAttemptAt: null },
      result: { kind: 'failed', attempt: 3, reason: 'retries_exhausted' },
    });
    expect(
      decideDelivery({ attemptCount: 0, roundAttempts: 0 }, failed({ statusCode: null, error: 'blocked_address' }), policy, now),
    ).toMatchObject({
      next: { status: 'failed', statusReason: 'blocked_address' },
      result: { kind: 'failed', attempt: 1, reason: 'blocked_address', summary: 'attempt 1: blocked_address in 12 ms' },
    });
  });

  it('ends a notification answered 410 failed at once (callback_gone), whatever the schedule has left', () => {
    expect(decideDelivery({ attemptCount: 0, roundAttempts: 0 }, failed({ statusCode: 410 }), policy, now)).toEqual({
      next: { status: 'failed', statusReason: 'callback_gone', nextAttemptAt: null },
      result: { kind: 'failed', attempt: 1, reason: 'callback_gone', summary: 'attempt 1: HTTP 410 in 12 ms' },
    });
  });
});
