import { parseRetryAfter, RetryPolicy } from './retry-policy';

const DEFAULT_SCHEDULE = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

describe('RetryPolicy', () => {
  it('follows the schedule without jitter at the midpoint and gives up after the last retry', () => {
    const policy = new RetryPolicy(DEFAULT_SCHEDULE, () => 0.5);
    expect(policy.maxAttempts).toBe(8);
    expect(DEFAULT_SCHEDULE.map((_, index) => policy.next(index + 1).delayMs)).toEqual(DEFAULT_SCHEDULE);
    expect(policy.next(8)).toEqual({ delayMs: null });
  });

  it('keeps jitter within ±10 %', () => {
    expect(new RetryPolicy([10_000], () => 0).next(1).delayMs).toBe(9_000);
    expect(new RetryPolicy([10_000], () => 0.999999).next(1).delayMs).toBe(11_000);
    const policy = new RetryPolicy([10_000]);
    for (let i = 0; i < 200; i++) {
      const { delayMs } = policy.next(1);
      expect(delayMs).toBeGreaterThanOrEqual(9_000);
      expect(delayMs).toBeLessThanOrEqual(11_000);
    }
  });

  it('waits at least Retry-After, but never longer than the largest scheduled delay', () => {
    const policy = new RetryPolicy([1_000, 60_000], () => 0.5);
    expect(policy.next(1, 30_000).delayMs).toBe(30_000);
    expect(policy.next(1, 500).delayMs).toBe(1_000);
    expect(policy.next(1, 3_600_000).delayMs).toBe(60_000);
    expect(policy.next(3, 30_000).delayMs).toBeNull();
  });

  it('with an empty schedule, makes a single attempt', () => {
    const policy = new RetryPolicy([]);
    expect(policy.maxAttempts).toBe(1);
    expect(policy.next(1).delayMs).toBeNull();
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-26T10:00:00Z');
  it.each([
    ['120', 120_000],
    [' 5 ', 5_000],
    ['Thu, 26 Nov 2026 10:01:00 GMT', 60_000],
    ['Thu, 26 Nov 2026 09:00:00 GMT', 0],
    ['soon', null],
    [undefined, null],
    [['7', '9'], 7_000],
  ])('%p -> %p', (header, expected) => expect(parseRetryAfter(header as string, now)).toBe(expected));
});
