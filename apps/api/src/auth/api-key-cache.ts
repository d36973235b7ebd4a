import { Injectable } from '@nestjs/common';
import { PartnerRepository } from '@callbacks/persistence';
import type { Principal } from './principal';

/** How long a looked-up API key is trusted without asking PostgreSQL again: a revoked key stops working within this. */
export const API_KEY_CACHE_MS = 5_000;
/** Bounds the memory: a flood of distinct valid keys only evicts the oldest. Unknown keys are never cached. */
const MAX_CACHED_KEYS = 10_000;

type PartnerPrincipal = Extract<Principal, { kind: 'partner' }>;

/**
 * Active partner API keys by their hash, remembered for at most API_KEY_CACHE_MS. Concurrent
 * requests with one key share one lookup. Revoking a key here forgets it at once; other API
 * replicas (and a revocation made directly in PostgreSQL) take up to API_KEY_CACHE_MS.
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

  /** Forgets revoked (or erased) keys in this process at once. */
  async forget(apiKeyIds: string[]): Promise<void> {
    const forgotten = new Set(apiKeyIds);
    for (const [keyHash, entry] of [...this.entries]) {
      const principal = await entry.principal.catch(() => null);
      if (principal && forgotten.has(principal.apiKeyId)) this.entries.delete(keyHash);
    }
  }

  private async load(keyHash: string): Promise<PartnerPrincipal | null> {
    const apiKey = await this.partners.activeKey(keyHash);
    return apiKey ? { kind: 'partner', partnerId: apiKey.partnerId, apiKeyId: apiKey.id } : null;
  }
}
