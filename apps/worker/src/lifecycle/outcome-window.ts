/** What a run of attempt outcomes to one callback says, folded: the last success and the failure streak after it. */
export interface OutcomeSummary {
  /** The latest successful attempt, or null. */
  lastSuccessAt: Date | null;
  /** The first failed attempt after lastSuccessAt (the start of the current streak), or null. */
  failingSince: Date | null;
}

/** Adds one attempt outcome to a summary (outcomes may arrive slightly out of order). */
export function foldOutcome(summary: OutcomeSummary | null, ok: boolean, at: Date): OutcomeSummary {
  const current = summary ?? { lastSuccessAt: null, failingSince: null };
  if (ok) {
    const lastSuccessAt = current.lastSuccessAt && current.lastSuccessAt > at ? current.lastSuccessAt : at;
    const failingSince = current.failingSince && current.failingSince > lastSuccessAt ? current.failingSince : null;
    return { lastSuccessAt, failingSince };
  }
  if (current.lastSuccessAt && at <= current.lastSuccessAt) return current;
  return { ...current, failingSince: current.failingSince && current.failingSince < at ? current.failingSince : at };
}

/**
 * Throttles the writes of attempt outcomes per callback: the first outcome after a quiet spell is
 * written at once, later ones are folded together and written when `intervalMs` has passed since
 * the last write (leading and trailing edge). So at 2,000 deliveries a second to one callback a
 * process writes its state about once a second, and the last outcome is never left unwritten.
 */
export class OutcomeWindows<Ref> {
  private readonly windows = new Map<string, { ref: Ref; pending: OutcomeSummary | null; timer: NodeJS.Timeout }>();

  constructor(
    private readonly intervalMs: number,
    private readonly write: (ref: Ref, summary: OutcomeSummary) => void,
  ) {}

  record(key: string, ref: Ref, ok: boolean, at: Date): void {
    const window = this.windows.get(key);
    if (window) {
      window.pending = foldOutcome(window.pending, ok, at);
      return;
    }
    this.open(key, ref);
    this.write(ref, foldOutcome(null, ok, at));
  }

  /** Writes every folded outcome now (shutdown). */
  flushAll(): void {
    for (const [key, window] of this.windows) {
      clearTimeout(window.timer);
      this.windows.delete(key);
      if (window.pending) this.write(window.ref, window.pending);
    }
  }

  private open(key: string, ref: Ref): void {
    const timer = setTimeout(() => this.close(key), this.intervalMs);
    timer.unref();
    this.windows.set(key, { ref, pending: null, timer });
  }

  private close(key: string): void {
    const window = this.windows.get(key);
    this.windows.delete(key);
    if (!window?.pending) return;
    this.open(key, window.ref);
    this.write(window.ref, window.pending);
  }
}
