/** What the callback guard enforces for one callback: its in-flight cap and its attempt rate (null: no rate limit). */
export type DeliveryLimits = { maxInFlight: number; ratePerSecond: number | null };
