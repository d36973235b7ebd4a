import type { AttemptErrorKind } from '@callbacks/contracts';

/** How one POST ended, whatever it delivered (a partner's webhook, an operator event). */
export interface AttemptOutcome {
  statusCode: number | null;
  error: AttemptErrorKind | null;
  durationMs: number;
  /** The first 1 KiB of the response body, decoded as UTF-8. */
  responseBody: string | null;
  retryAfter: string | undefined;
  ok: boolean;
}

/** "HTTP 503 in 12 ms", "timeout in 15000 ms": for job logs. */
export function describeOutcome(outcome: AttemptOutcome): string {
  return `${outcome.statusCode !== null ? `HTTP ${outcome.statusCode}` : outcome.error} in ${outcome.durationMs} ms`;
}
