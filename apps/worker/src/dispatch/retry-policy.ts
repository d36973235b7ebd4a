/** Jitter spreads retries of many failed deliveries so a recovering receiver is not hit all at once. */
const JITTER_RATIO = 0.1;

export interface RetryDecision {
  /** Delay before the next attempt, or null when the schedule is exhausted. */
  delayMs: number | null;
}

/**
 * RETRY_SCHEDULE as a policy: after the n-th failed attempt of a round, wait schedule[n-1]
 * (±10 % jitter); after schedule.length + 1 attempts, give up. A Retry-After from a 429 or 503
 * is honoured as a lower bound, capped at the largest scheduled delay.
 */
export class RetryPolicy {
  private readonly maxDelayMs: number;

  constructor(
    private readonly scheduleMs: readonly number[],
    private readonly random: () => number = Math.random,
  ) {
    this.maxDelayMs = Math.max(0, ...scheduleMs);
  }

  get maxAttempts(): number {
    return this.scheduleMs.length + 1;
  }

  next(failedAttemptsInRound: number, retryAfterMs: number | null = null): RetryDecision {
    const scheduled = this.scheduleMs[failedAttemptsInRound - 1];
    if (scheduled === undefined) return { delayMs: null };
    const jitter = scheduled * JITTER_RATIO * (this.random() * 2 - 1);
    const delayMs = Math.round(scheduled + jitter);
    if (retryAfterMs === null) return { delayMs };
    return { delayMs: Math.max(delayMs, Math.min(retryAfterMs, this.maxDelayMs)) };
  }
}

/** Retry-After as delta-seconds or an HTTP date, in milliseconds from `now`; null when absent or unreadable. */
export function parseRetryAfter(header: string | string[] | undefined, now = Date.now()): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1_000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
