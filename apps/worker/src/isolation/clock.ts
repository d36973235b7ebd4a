/** Where the time comes from: Date.now in production, an explicit clock in component tests. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Nest token of the guard's clock; not provided in production (the system clock is the default). */
export const GUARD_CLOCK = Symbol('GUARD_CLOCK');
