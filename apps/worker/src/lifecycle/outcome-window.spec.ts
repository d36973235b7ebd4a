import { foldOutcome, OutcomeWindows, type OutcomeSummary } from './outcome-window';

const at = (seconds: number) => new Date(Date.UTC(2026, 10, 27, 12, 0, seconds));

describe('foldOutcome', () => {
  it('keeps the first failure after the last success as the streak start', () => {
    let summary = foldOutcome(null, false, at(1));
    summary = foldOutcome(summary, false, at(2));
    expect(summary).toEqual({ lastSuccessAt: null, failingSince: at(1) });
    summary = foldOutcome(summary, true, at(3));
    expect(summary).toEqual({ lastSuccessAt: at(3), failingSince: null });
    summary = foldOutcome(summary, false, at(5));
    summary = foldOutcome(summary, false, at(4));
    expect(summary).toEqual({ lastSuccessAt: at(3), failingSince: at(4) });
  });

  it('ignores a failure older than a success it has seen, and a success older than the streak', () => {
    expect(foldOutcome({ lastSuccessAt: at(5), failingSince: null }, false, at(4))).toEqual({ lastSuccessAt: at(5), failingSince: null });
    expect(foldOutcome({ lastSuccessAt: null, failingSince: at(6) }, true, at(5))).toEqual({ lastSuccessAt: at(5), failingSince: at(6) });
  });
});

describe('OutcomeWindows', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('writes the first outcome at once, then at most one folded write per interval, and never drops the last', () => {
    const writes: OutcomeSummary[] = [];
    const windows = new OutcomeWindows<string>(1_000, (_ref, summary) => writes.push(summary));
    // 2,000 outcomes a second for 3 seconds to one callback: successes for 2 s, then failures.
    for (let ms = 0; ms < 3_000; ms++) {
      for (const t of [ms, ms + 0.5]) windows.record('p:5', 'p:5', t < 2_000, new Date(t));
      jest.advanceTimersByTime(1);
    }
    jest.advanceTimersByTime(2_000);
    expect(writes).toHaveLength(4);
    const last = writes[writes.length - 1];
    expect(last.failingSince?.getTime()).toBe(2_000);
    expect(writes.some((write) => write.lastSuccessAt?.getTime() === 1_999)).toBe(true);
  });

  it('flushes what is folded at shutdown', () => {
    const writes: OutcomeSummary[] = [];
    const windows = new OutcomeWindows<string>(1_000, (_ref, summary) => writes.push(summary));
    windows.record('k', 'k', true, at(1));
    windows.record('k', 'k', false, at(2));
    expect(writes).toHaveLength(1);
    windows.flushAll();
    expect(writes).toEqual([
      { lastSuccessAt: at(1), failingSince: null },
      { lastSuccessAt: null, failingSince: at(2) },
    ]);
  });
});
