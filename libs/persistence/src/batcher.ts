export interface BatcherOptions {
  /** At most this many calls share one batch. */
  maxBatch?: number;
  /** How long the first call of a batch waits for company; 0 = until the current turn of the event loop ends. */
  windowMs?: number;
  /**
   * At most this many batches run at once; calls made meanwhile wait and form the next batch.
   * This is group commit: the busier the statement, the more calls share each run of it.
   */
  maxInFlight?: number;
}

/**
 * Collects calls made within `windowMs` (up to `maxBatch`) and runs them as one. Under load, 50
 * deliveries in flight become a handful of queries instead of 50; an idle call waits `windowMs`.
 */
export class Batcher<Input, Output> {
  private pending: Array<{ input: Input; resolve: (output: Output) => void; reject: (error: unknown) => void }> = [];
  private scheduled = false;
  private inFlight = 0;
  private readonly maxBatch: number;
  private readonly windowMs: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly runBatch: (inputs: Input[]) => Promise<Output[]>,
    { maxBatch = 100, windowMs = 0, maxInFlight = Number.POSITIVE_INFINITY }: BatcherOptions = {},
  ) {
    this.maxBatch = maxBatch;
    this.windowMs = windowMs;
    this.maxInFlight = maxInFlight;
  }

  submit(input: Input): Promise<Output> {
    return new Promise<Output>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.flush();
      else this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    if (this.windowMs > 0) setTimeout(() => this.flush(), this.windowMs);
    else setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    while (this.pending.length > 0 && this.inFlight < this.maxInFlight) {
      const batch = this.pending.splice(0, this.maxBatch);
      this.inFlight++;
      this.runBatch(batch.map((entry) => entry.input))
        .then(
          (outputs) => batch.forEach((entry, index) => entry.resolve(outputs[index])),
          (error: unknown) => batch.forEach((entry) => entry.reject(error)),
        )
        .finally(() => {
          this.inFlight--;
          // Calls that waited for a free slot go at once: they have waited long enough.
          if (this.pending.length > 0) this.flush();
        });
    }
  }
}
