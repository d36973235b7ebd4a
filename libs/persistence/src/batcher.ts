export interface BatcherOptions<Input = unknown> {
  /** At most this many calls share one batch. */
  maxBatch?: number;
  /** How long the first call of a batch waits for company; 0 = until the current turn of the event loop ends. */
  windowMs?: number;
  /**
   * At most this many batches run at once; calls made meanwhile wait and form the next batch.
   * This is group commit: the busier the statement, the more calls share each run of it.
   */
  maxInFlight?: number;
  /**
   * Bounds what the batcher holds (waiting and running calls, counted until each is answered). A call
   * that would exceed it is refused at once with BudgetExhausted; unbounded without one.
   */
  budget?: Budget;
  /** The bytes one call holds, as the budget counts them (e.g. its payload's length); 0 without. */
  sizeOf?: (input: Input) => number;
}

/** Raised when a call would take a Budget beyond its count or bytes. */
export class BudgetExhausted extends Error {
  constructor(readonly limit: 'count' | 'bytes') {
    super(`the queue is full (${limit})`);
    this.name = 'BudgetExhausted';
  }
}

/**
 * A bound on what is held in memory at once, in items and bytes, shared by everything that takes from
 * it (a Batcher's calls, and callers that hold items outside it). take() never waits: a caller that
 * finds it full is refused, so a stalled consumer cannot make the process hold ever more.
 */
export class Budget {
  private count = 0;
  private bytes = 0;

  constructor(
    readonly maxCount: number,
    readonly maxBytes: number,
  ) {}

  /** Takes `count` items of `bytes` in all, or throws BudgetExhausted. A single take larger than the whole budget is refused too. */
  take(count: number, bytes: number): void {
    if (this.count + count > this.maxCount) throw new BudgetExhausted('count');
    if (this.bytes + bytes > this.maxBytes) throw new BudgetExhausted('bytes');
    this.count += count;
    this.bytes += bytes;
  }

  give(count: number, bytes: number): void {
    this.count -= count;
    this.bytes -= bytes;
  }

  get held(): { count: number; bytes: number } {
    return { count: this.count, bytes: this.bytes };
  }
}

/**
 * Collects calls made within `windowMs` (up to `maxBatch`) and runs them as one. Under load, 50
 * deliveries in flight become a handful of queries instead of 50; an idle call waits `windowMs`.
 */
interface PendingCall<Input, Output> {
  input: Input;
  resolve: (output: Output) => void;
  reject: (error: unknown) => void;
}

export class Batcher<Input, Output> {
  private pending: Array<PendingCall<Input, Output>> = [];
  private scheduled = false;
  private inFlight = 0;
  private readonly maxBatch: number;
  private readonly windowMs: number;
  private readonly maxInFlight: number;
  private readonly budget: Budget | undefined;
  private readonly sizeOf: (input: Input) => number;

  constructor(
    private readonly runBatch: (inputs: Input[]) => Promise<Output[]>,
    { maxBatch = 100, windowMs = 0, maxInFlight = Number.POSITIVE_INFINITY, budget, sizeOf = () => 0 }: BatcherOptions<Input> = {},
  ) {
    this.maxBatch = maxBatch;
    this.windowMs = windowMs;
    this.maxInFlight = maxInFlight;
    this.budget = budget;
    this.sizeOf = sizeOf;
  }

  /**
   * Runs `input` with the next batch. Refused at once (BudgetExhausted) when the budget is full. When
   * `signal` aborts while the call still waits for a batch, it is taken out and rejected with the
   * signal's reason: it will never run. Once its batch runs, aborting changes nothing here.
   */
  submit(input: Input, signal?: AbortSignal): Promise<Output> {
    return new Promise<Output>((resolve, reject) => {
      const size = this.sizeOf(input);
      try {
        this.budget?.take(1, size);
      } catch (error) {
        reject(error);
        return;
      }
      const settle = (): void => {
        this.budget?.give(1, size);
        signal?.removeEventListener('abort', withdraw);
      };
      const call: PendingCall<Input, Output> = {
        input,
        resolve: (output) => (settle(), resolve(output)),
        reject: (error) => (settle(), reject(error)),
      };
      const withdraw = (): void => {
        const index = this.pending.indexOf(call);
        if (index === -1) return;
        this.pending.splice(index, 1);
        call.reject(signal?.reason);
      };
      if (signal?.aborted) return call.reject(signal.reason);
      signal?.addEventListener('abort', withdraw, { once: true });
      this.pending.push(call);
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
