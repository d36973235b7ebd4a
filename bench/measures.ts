/**
 * How the bench turns what it saw into figures: latency summaries that keep negative values (they
 * are reported, never clamped to 0), the offset between the bench's clock and the receiver's, and
 * peak RSS per phase.
 */
import type { ChildApp } from '@callbacks/testing';

export const now = () => performance.timeOrigin + performance.now();

export interface LatencySummary {
  count: number;
  /** Values below 0: a receipt stamped before the request was sent, i.e. the clock offset's error. Should be 0. */
  negative: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function summarize(values: number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    count: values.length,
    negative: sorted.filter((value) => value < 0).length,
    min: round(sorted[0] ?? NaN),
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? NaN),
  };
}

/** How far the receiver's clock is ahead of ours (ms), from the round trip with the least delay. */
export interface ClockOffset {
  offsetMs: number;
  /** Half that round trip: the offset is right to within this. */
  uncertaintyMs: number;
}

/** NTP's rule on a quiet path: offset = their time − the middle of our send and receive, best of `samples`. */
export async function clockOffset(readRemote: () => Promise<number>, samples = 30): Promise<ClockOffset> {
  let best: ClockOffset = { offsetMs: NaN, uncertaintyMs: Infinity };
  for (let i = 0; i < samples; i++) {
    const sent = now();
    const remote = await readRemote();
    const back = now();
    const uncertaintyMs = (back - sent) / 2;
    if (uncertaintyMs < best.uncertaintyMs) best = { offsetMs: remote - (sent + back) / 2, uncertaintyMs };
  }
  return best;
}

export interface PhasePeaks {
  /** The largest RSS any one worker process had during the phase (MB). */
  workerMb: number;
  apiMb: number;
}

/**
 * Samples the RSS of every running process of the bench every `intervalMs`, for the whole run, and
 * keeps the peaks of each phase: nothing (the two-worker drain, the latency and isolation phases)
 * goes unmeasured.
 */
export class RssSampler {
  readonly peaks: Record<string, PhasePeaks> = {};
  private current = 'start';
  private readonly timer: NodeJS.Timeout;

  constructor(processes: () => ChildApp[], intervalMs = 200) {
    this.timer = setInterval(() => this.sample(processes()), intervalMs);
  }

  phase(name: string): void {
    this.current = name;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The phase with the largest worker RSS, and that RSS. */
  peakWorker(): { phase: string; mb: number } {
    return Object.entries(this.peaks).reduce((best, [phase, peaks]) => (peaks.workerMb > best.mb ? { phase, mb: peaks.workerMb } : best), {
      phase: 'none',
      mb: 0,
    });
  }

  private sample(processes: ChildApp[]): void {
    const peaks = (this.peaks[this.current] ??= { workerMb: 0, apiMb: 0 });
    for (const proc of processes) {
      if (!proc.running) continue;
      const mb = Math.round(proc.rssMb());
      if (!Number.isFinite(mb)) continue;
      if (proc.name.startsWith('worker')) peaks.workerMb = Math.max(peaks.workerMb, mb);
      else if (proc.name.startsWith('api')) peaks.apiMb = Math.max(peaks.apiMb, mb);
    }
  }
}
