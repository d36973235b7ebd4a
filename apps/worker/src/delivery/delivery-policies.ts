import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, deliveryPolicyBounds } from '@callbacks/config';
import { type CallbackDeliveryPolicy, type CallbackRef, resolveDeliveryPolicy, type StoredDeliveryPolicy } from '@callbacks/contracts';
import { DeliveryRepository } from '@callbacks/persistence';

/** How long a worker uses a callback's policy before reading it again: a PUT takes effect within this. */
export const POLICY_TTL_MS = 2_000;
const POLICIES_KEPT = 10_000;

/**
 * A callback's delivery policy as it applies now (the operator's defaults and caps resolved), kept
 * per worker for POLICY_TTL_MS. The guard needs the in-flight cap before the delivery's own load
 * (a delivery held back costs no load), so the policy is read apart, once per callback and interval.
 */
@Injectable()
export class DeliveryPolicies {
  private readonly kept = new Map<string, { policy: Promise<CallbackDeliveryPolicy>; until: number }>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly deliveries: DeliveryRepository,
  ) {}

  of(callback: CallbackRef): Promise<CallbackDeliveryPolicy> {
    const key = `${callback.partnerId}:${callback.notificationTypeId}`;
    const now = Date.now();
    const kept = this.kept.get(key);
    if (kept && kept.until > now) return kept.policy;
    const policy = this.deliveries
      .deliveryPolicy(callback.partnerId, callback.notificationTypeId)
      .then((stored) => this.resolve(stored ?? { ordering: 'none', maxInFlight: null, ratePerSecond: null, timeoutMs: null }));
    policy.catch(() => this.kept.delete(key));
    this.kept.delete(key);
    this.kept.set(key, { policy, until: now + POLICY_TTL_MS });
    if (this.kept.size > POLICIES_KEPT) this.kept.delete(this.kept.keys().next().value as string);
    return policy;
  }

  resolve(stored: StoredDeliveryPolicy): CallbackDeliveryPolicy {
    return resolveDeliveryPolicy(stored, deliveryPolicyBounds(this.config));
  }
}
