import type { AttemptOutcome } from './attempt-outcome';
import { nextStep, requestedWaitMs } from './next-step';
import { RetryPolicy } from './retry-policy';

const now = Date.parse('2026-11-26T10:00:00Z');
const policy = new RetryPolicy([1_000, 60_000], () => 0.5);
const outcome = (fields: Partial<AttemptOutcome>): AttemptOutcome => ({
  ok: false,
  statusCode: null,
  error: null,
  durationMs: 5,
  responseBody: null,
  retryAfter: undefined,
  ...fields,
});

describe('nextStep', () => {
  it('is delivered on success, whatever the schedule says', () => {
    expect(nextStep(outcome({ ok: true, statusCode: 204 }), 99, policy, now)).toEqual({ kind: 'delivered' });
  });

  it('retries a failure after the scheduled delay of its place in the round, and fails when the schedule is over', () => {
    expect(nextStep(outcome({ statusCode: 500 }), 1, policy, now)).toEqual({ kind: 'retry', delayMs: 1_000 });
    expect(nextStep(outcome({ error: 'timeout' }), 2, policy, now)).toEqual({ kind: 'retry', delayMs: 60_000 });
    expect(nextStep(outcome({ statusCode: 500 }), 3, policy, now)).toEqual({ kind: 'fail', reason: 'retries_exhausted' });
  });

  it('fails a refused address at once', () => {
    expect(nextStep(outcome({ error: 'blocked_address' }), 1, policy, now)).toEqual({ kind: 'fail', reason: 'blocked_address' });
  });

  it('fails a 410 at once where it disables (a partner callback), and retries it like any failure elsewhere (an operator endpoint)', () => {
    expect(nextStep(outcome({ statusCode: 410 }), 1, policy, now, { goneDisables: true })).toEqual({
      kind: 'fail',
      reason: 'callback_gone',
    });
    expect(nextStep(outcome({ statusCode: 410 }), 1, policy, now)).toEqual({ kind: 'retry', delayMs: 1_000 });
    expect(nextStep(outcome({ statusCode: 404 }), 1, policy, now, { goneDisables: true })).toEqual({ kind: 'retry', delayMs: 1_000 });
  });

  it.each([429, 503])('waits at least what a %i asks for in Retry-After, up to the largest scheduled delay', (statusCode) => {
    expect(nextStep(outcome({ statusCode, retryAfter: '30' }), 1, policy, now)).toEqual({ kind: 'retry', delayMs: 30_000 });
    expect(nextStep(outcome({ statusCode, retryAfter: '7200' }), 1, policy, now)).toEqual({ kind: 'retry', delayMs: 60_000 });
  });

  it.each([500, 502, 504, 404])('ignores Retry-After on a %i', (statusCode) => {
    expect(nextStep(outcome({ statusCode, retryAfter: '30' }), 1, policy, now)).toEqual({ kind: 'retry', delayMs: 1_000 });
  });
});

describe('requestedWaitMs', () => {
  it('reads Retry-After (seconds or a date) of a 429 or 503 only', () => {
    expect(requestedWaitMs({ statusCode: 503, retryAfter: 'Thu, 26 Nov 2026 10:01:00 GMT' }, now)).toBe(60_000);
    expect(requestedWaitMs({ statusCode: 429, retryAfter: undefined }, now)).toBeNull();
    expect(requestedWaitMs({ statusCode: 500, retryAfter: '5' }, now)).toBeNull();
    expect(requestedWaitMs({ statusCode: null, retryAfter: '5' }, now)).toBeNull();
  });
});
