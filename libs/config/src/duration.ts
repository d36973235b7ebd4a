const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses "250ms", "5s", "30m" or "2h" into milliseconds; anything else is null. Days ("30d") only
 * with `days: true`, for periods such as retention (a retry schedule step is never that long).
 */
export function parseDuration(text: string, { days = false }: { days?: boolean } = {}): number | null {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match || (match[2] === 'd' && !days)) return null;
  const ms = Number(match[1]) * UNIT_MS[match[2]];
  return Number.isFinite(ms) ? Math.round(ms) : null;
}

/** "5s,5m,30m" -> [5000, 300000, 1800000]; null when any step is not a duration. */
export function parseDurationList(text: string): number[] | null {
  const steps = text.split(',').map((step) => step.trim());
  if (steps.length === 1 && steps[0] === '') return [];
  const parsed = steps.map((step) => parseDuration(step));
  return parsed.every((ms): ms is number => ms !== null) ? parsed : null;
}
