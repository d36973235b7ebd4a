import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import type { DeliveryLimits } from '../delivery-limits';

/** none: deliveries go out as they come; case: one at a time per case (processUniqueId or simulationUniqueId), in acceptance order. */
export const DELIVERY_ORDERINGS = ['none', 'case'] as const;
export type DeliveryOrdering = (typeof DELIVERY_ORDERINGS)[number];

/** The widest bounds a partner may ask for; the operator narrows them (DELIVERY_MAX_IN_FLIGHT_LIMIT, DELIVERY_RATE_PER_SECOND_LIMIT, DELIVERY_TIMEOUT_MS). */
export const DELIVERY_MAX_IN_FLIGHT_BOUND = 100;
export const DELIVERY_RATE_PER_SECOND_BOUND = 1000;
export const DELIVERY_MIN_TIMEOUT_MS = 1000;

/** A callback's delivery policy as it applies: every field resolved (defaults and the operator's caps applied). */
export interface CallbackDeliveryPolicy extends DeliveryLimits {
  ordering: DeliveryOrdering;
  timeoutMs: number;
}

/** The policy as a callback stores it: null where the partner chose nothing (the operator's default applies, as it is now). */
export interface StoredDeliveryPolicy {
  ordering: DeliveryOrdering;
  maxInFlight: number | null;
  ratePerSecond: number | null;
  timeoutMs: number | null;
}

/** What the operator's configuration says about policies: the defaults and the caps. */
export interface DeliveryPolicyBounds {
  /** CALLBACK_MAX_IN_FLIGHT: the in-flight cap of a callback that chose none. */
  defaultMaxInFlight: number;
  /** DELIVERY_MAX_IN_FLIGHT_LIMIT. */
  maxInFlightLimit: number;
  /** DELIVERY_RATE_PER_SECOND_LIMIT. */
  ratePerSecondLimit: number;
  /** DELIVERY_TIMEOUT_MS: the default timeout, and the largest a callback may choose. */
  timeoutMs: number;
}

/**
 * The policy in force: the stored choices within the operator's current caps (a cap lowered after a
 * partner chose more applies at once), the operator's defaults where the partner chose nothing.
 */
export function resolveDeliveryPolicy(stored: StoredDeliveryPolicy, bounds: DeliveryPolicyBounds): CallbackDeliveryPolicy {
  return {
    ordering: stored.ordering,
    maxInFlight: stored.maxInFlight === null ? bounds.defaultMaxInFlight : Math.min(stored.maxInFlight, bounds.maxInFlightLimit),
    ratePerSecond: stored.ratePerSecond === null ? null : Math.min(stored.ratePerSecond, bounds.ratePerSecondLimit),
    timeoutMs: stored.timeoutMs === null ? bounds.timeoutMs : Math.min(stored.timeoutMs, bounds.timeoutMs),
  };
}

export class CallbackDeliveryDto {
  @ApiPropertyOptional({
    enum: DELIVERY_ORDERINGS,
    default: 'none',
    description:
      'none: notifications are sent as they come, in parallel. case: notifications about one case (processUniqueId, or ' +
      'simulationUniqueId) are sent one at a time in the order they were accepted; the next is sent once the previous is delivered or ' +
      'has ended failed. Other cases go on in parallel, within maxInFlight. Envelopes then carry "sequence" (1, 2, 3… per case). ' +
      'Redeliveries and recoveries are sent out of band (not held behind the case).',
  })
  @IsOptional()
  @IsIn([...DELIVERY_ORDERINGS])
  ordering?: DeliveryOrdering;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: DELIVERY_MAX_IN_FLIGHT_BOUND,
    description:
      'Deliveries to this callback in flight at once, across all workers; more wait, parked, without polling. Default ' +
      'CALLBACK_MAX_IN_FLIGHT (10); at most DELIVERY_MAX_IN_FLIGHT_LIMIT (100 by default).',
    example: 10,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(DELIVERY_MAX_IN_FLIGHT_BOUND)
  maxInFlight?: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: DELIVERY_RATE_PER_SECOND_BOUND,
    nullable: true,
    description:
      'At most this many attempts start per second for this callback, across all workers; null (the default): no rate limit. ' +
      'At most DELIVERY_RATE_PER_SECOND_LIMIT (1000 by default).',
    example: null,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(DELIVERY_RATE_PER_SECOND_BOUND)
  ratePerSecond?: number | null;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: DELIVERY_MIN_TIMEOUT_MS,
    description:
      "The whole-request timeout of this callback's attempts, in milliseconds. Default and largest: the operator's " +
      'DELIVERY_TIMEOUT_MS (15000 by default).',
    example: 15000,
  })
  @IsOptional()
  @IsInt()
  @Min(DELIVERY_MIN_TIMEOUT_MS)
  timeoutMs?: number;
}

/** The policy as GET shows it: what applies now. */
export class CallbackDeliveryPolicyDto implements CallbackDeliveryPolicy {
  @ApiProperty({ enum: DELIVERY_ORDERINGS, example: 'none' })
  ordering: DeliveryOrdering;

  @ApiProperty({ type: 'integer', example: 10, description: 'Deliveries in flight at once, across all workers.' })
  maxInFlight: number;

  @ApiProperty({ type: 'integer', nullable: true, example: null, description: 'Attempts started per second at most; null: no limit.' })
  ratePerSecond: number | null;

  @ApiProperty({ type: 'integer', example: 15000, description: "Each attempt's whole-request timeout, in milliseconds." })
  timeoutMs: number;
}
