import { Injectable } from '@nestjs/common';
import { PartnerRepository } from '@callbacks/persistence';
import type { Principal } from './principal';

/**
 * How long a looked-up API key is trusted without asking PostgreSQL again. Revocations clear it on
 * every API process at once (AccessRevocations); this bounds a process that missed one (Redis away).
 */
export const API_KEY_CACHE_MS = 5_000;
/** Bounds the memory: a flood of distinct valid keys only evicts the oldest. Unknown keys are never cached. */
const MAX_CACHED_KEYS = 10_000;

type PartnerPrincipal = Extract<Principal, { kind: 'partner' }>;

/**
 * Active partner API keys by their hash, remembered for at most API_KEY_CACHE_MS. Concurrent
 * requests with one key share one lookup. A revocation forgets it at once here and, published by
 * AccessRevocations, on every other API process; a revocation made directly in PostgreSQL takes up
 * to API_KEY_CACHE_MS.
 */
@Injectable()
export class ApiKeyCache {
  private readonly entries = new Map<string, { principal: Promise<PartnerPrincipal | null>; expiresAt: number }>();

  constructor(private readonly partners: PartnerRepository) {}

  lookup(keyHash: string): Promise<PartnerPrincipal | null> {
    const now = Date.now();
    const cached = this.entries.get(keyHash);
    if (cached && cached.expiresAt > now) return cached.principal;
    this.entries.delete(keyHash);
    const principal = this.load(keyHash);
    if (this.entries.size >= MAX_CACHED_KEYS) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(keyHash, { principal, expiresAt: now + API_KEY_CACHE_MS });
    // Only active keys are remembered: an unknown key (or a failed lookup) is asked again next time.
    const forgetUnlessActive = (found: PartnerPrincipal | null) => {
      if (found === null && this.entries.get(keyHash)?.principal === principal) this.entries.delete(keyHash);
    };
    principal.then(forgetUnlessActive, () => forgetUnlessActive(null));
    return principal;
  }

  /** Forgets revoked keys, and every key of an erased partner, in this process at once. */
  async forget(apiKeyIds: string[], partnerId?: string): Promise<void> {
    const forgotten = new Set(apiKeyIds);
    for (const [keyHash, entry] of [...this.entries]) {
      // A lookup still running may have read the key before it was revoked: it goes too, unanswered.
      const principal = await entry.principal.catch(() => null);
      if (principal && (forgotten.has(principal.apiKeyId) || principal.partnerId === partnerId)) this.entries.delete(keyHash);
    }
  }

  private async load(keyHash: string): Promise<PartnerPrincipal | null> {
    const apiKey = await this.partners.activeKey(keyHash);
    return apiKey ? { kind: 'partner', partnerId: apiKey.partnerId, apiKeyId: apiKey.id } : null;
  }
}
