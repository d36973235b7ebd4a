import { Injectable } from '@nestjs/common';
import { PartnerRepository } from '@callbacks/persistence';
import { apiKeyShape, hashApiKey } from './api-key';
import { CredentialMac } from './credential-mac';
import type { Principal } from './principal';
import { UnknownCredentials } from './unknown-credentials';

/**
 * How long a looked-up API key is trusted without asking PostgreSQL again. Revocations clear it on
 * every API process at once (AccessRevocations); this bounds a process that missed one (Redis away).
 */
export const API_KEY_CACHE_MS = 5_000;
/** Bounds the memory: a flood of distinct valid keys only evicts the oldest. Unknown keys go to UnknownCredentials. */
const MAX_CACHED_KEYS = 10_000;
/** How often the hashes of old-format (MAC-less) keys are read again: one query a minute, however many keys arrive. */
const LEGACY_REFRESH_MS = 60_000;

type PartnerPrincipal = Extract<Principal, { kind: 'partner' }>;

/**
 * Active partner API keys by their hash, remembered for at most API_KEY_CACHE_MS. Concurrent
 * requests with one key share one lookup. A revocation forgets it at once here and, published by
 * AccessRevocations, on every other API process; a revocation made directly in PostgreSQL takes up
 * to API_KEY_CACHE_MS.
 * Before any of that, a key is checked without PostgreSQL: a key we issued carries a valid MAC, an
 * old-format key must be one of the active old-format keys (their hashes, read once a minute), and a
 * well-formed key the database did not know is remembered in UnknownCredentials. So a forged key,
 * or a flood of them, costs no query.
 */
@Injectable()
export class ApiKeyCache {
  private readonly entries = new Map<string, { principal: Promise<PartnerPrincipal | null>; expiresAt: number }>();

  private legacyKeyHashes: { hashes: Promise<Set<string>>; readAt: number } | null = null;

  constructor(
    private readonly partners: PartnerRepository,
    private readonly mac: CredentialMac,
    private readonly unknown: UnknownCredentials,
  ) {}

  /** The partner of an active key, or null: for a forged key without asking PostgreSQL. */
  async lookup(apiKey: string): Promise<PartnerPrincipal | null> {
    const shape = apiKeyShape(this.mac, apiKey);
    if (shape === 'forged') return null;
    const keyHash = hashApiKey(apiKey);
    if (this.unknown.has(keyHash)) return null;
    if (shape === 'legacy' && !(await this.legacyHashes()).has(keyHash)) return null;
    return this.cached(keyHash);
  }

  private cached(keyHash: string): Promise<PartnerPrincipal | null> {
    const now = Date.now();
    const cached = this.entries.get(keyHash);
    if (cached && cached.expiresAt > now) return cached.principal;
    this.entries.delete(keyHash);
    const principal = this.load(keyHash);
    if (this.entries.size >= MAX_CACHED_KEYS) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(keyHash, { principal, expiresAt: now + API_KEY_CACHE_MS });
    // Only active keys are remembered: an unknown key (or a failed lookup) is asked again next time.
    const forgetUnlessActive = (found: PartnerPrincipal | null, failed = false) => {
      if (found === null && this.entries.get(keyHash)?.principal === principal) this.entries.delete(keyHash);
      if (found === null && !failed) this.unknown.add(keyHash);
    };
    principal.then(
      (found) => forgetUnlessActive(found),
      () => forgetUnlessActive(null, true),
    );
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

  private legacyHashes(): Promise<Set<string>> {
    const now = Date.now();
    if (this.legacyKeyHashes === null || this.legacyKeyHashes.readAt + LEGACY_REFRESH_MS <= now) {
      const previous = this.legacyKeyHashes;
      const hashes = this.partners.activeLegacyKeyHashes().then(
        (rows) => new Set(rows),
        // PostgreSQL away: keep what was known; next time ask again.
        (error: unknown) => {
          if (this.legacyKeyHashes?.hashes === hashes) this.legacyKeyHashes = previous;
          if (previous) return previous.hashes;
          throw error;
        },
      );
      this.legacyKeyHashes = { hashes, readAt: now };
    }
    return this.legacyKeyHashes.hashes;
  }

  private async load(keyHash: string): Promise<PartnerPrincipal | null> {
    const apiKey = await this.partners.activeKey(keyHash);
    return apiKey ? { kind: 'partner', partnerId: apiKey.partnerId, apiKeyId: apiKey.id } : null;
  }
}
