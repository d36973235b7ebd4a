/**
 * What the guard holds one callback's deliveries to, across every worker: at most `maxInFlight` at
 * a time, and at most `ratePerSecond` attempts starting in any one-second window (null: no rate).
 */
export type DeliveryLimits = { maxInFlight: number; ratePerSecond: number | null };
