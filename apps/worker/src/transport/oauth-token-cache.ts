import { createHmac, randomUUID } from 'node:crypto';
import type { RedisClient } from '@callbacks/queue';
import type { SecretCipher } from '@callbacks/signing';
import { type ClientCredentialsGrant, type FetchedToken, OAuthTokenError } from './oauth-token-request';

export interface AccessToken {
  value: string;
  /** Generation id: a 401 invalidates exactly this token, not a newer one another worker fetched. */
  id: string;
}

/** Where one callback's token lives (see callbackKeys in @callbacks/queue), and what it was issued for. */
export interface TokenSlot {
  tokenKey: string;
  lockKey: string;
  /** Changes whenever the token URL, client id, secret or scope changes: a token of another configuration is not used. */
  fingerprint: string;
}

export interface OAuthTokenCacheOptions {
  /** Bounds a token request; the lock outlives it a little, so a dead holder's lock frees itself. */
  requestTimeoutMs: number;
  /** How long a token endpoint's refusal is shared before anyone asks again. */
  failureMemoryMs?: number;
  /** How often a worker waiting for another's token request looks again. */
  pollMs?: number;
  now?: () => number;
}

const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const DROP_TOKEN = `if redis.call('HGET', KEYS[1], 'id') == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

type CacheRedis = RedisClient & {
  releaseTokenLock(key: string, value: string): Promise<number>;
  dropToken(key: string, id: string): Promise<number>;
};

/** Tokens this process remembers (the least recently stored go first); the rest are one Redis read away. */
const MAX_REMEMBERED = 1_000;

/**
 * What a cached token was issued for, keyed with SECRETS_ENCRYPTION_KEY (an HMAC, so the Redis hash
 * reveals nothing of the client secret, not even a guessable one).
 */
export function tokenFingerprint(
  key: Buffer,
  grant: Pick<ClientCredentialsGrant, 'tokenUrl' | 'clientId' | 'clientSecret' | 'scope'>,
): string {
  return createHmac('sha256', key)
    .update([grant.tokenUrl, grant.clientId, grant.clientSecret, grant.scope ?? ''].join('\0'))
    .digest('base64url');
}

/** Refresh this long before expiry: a tenth of the lifetime, at most a minute. */
export function refreshMarginMs(lifetimeMs: number): number {
  return Math.min(60_000, lifetimeMs / 10);
}

interface Remembered {
  token: AccessToken;
  fingerprint: string;
  refreshAt: number;
}

/**
 * OAuth2 access tokens shared by every worker. A token lives in Redis, encrypted with
 * SECRETS_ENCRYPTION_KEY (it is a credential), until shortly before it expires; each process keeps
 * the one it last read, so a delivery costs no Redis round trip. Only one worker fetches a
 * callback's token at a time (a Redis lock); the others wait for its answer and take it, or its
 * refusal, which is kept for a few seconds so a broken token endpoint is not asked once per delivery.
 */
export class OAuthTokenCache {
  private readonly redis: CacheRedis;
  private readonly local = new Map<string, Remembered>();
  private readonly pending = new Map<string, Promise<AccessToken>>();
  private readonly failureMemoryMs: number;
  private readonly pollMs: number;
  private readonly now: () => number;

  constructor(
    redis: RedisClient,
    private readonly cipher: SecretCipher,
    private readonly options: OAuthTokenCacheOptions,
  ) {
    this.redis = redis as CacheRedis;
    this.redis.defineCommand('releaseTokenLock', { numberOfKeys: 1, lua: RELEASE_LOCK });
    this.redis.defineCommand('dropToken', { numberOfKeys: 1, lua: DROP_TOKEN });
    this.failureMemoryMs = options.failureMemoryMs ?? 5_000;
    this.pollMs = options.pollMs ?? 50;
    this.now = options.now ?? Date.now;
  }

  /** The slot's token: from this process, from Redis, or fetched by `fetch` (by one worker at a time). */
  token(slot: TokenSlot, fetch: () => Promise<FetchedToken>, signal: AbortSignal): Promise<AccessToken> {
    const remembered = this.local.get(slot.tokenKey);
    if (remembered && remembered.fingerprint === slot.fingerprint && remembered.refreshAt > this.now())
      return Promise.resolve(remembered.token);
    // Concurrent deliveries of this process share one look-up.
    const key = `${slot.tokenKey}\n${slot.fingerprint}`;
    const running = this.pending.get(key);
    if (running) return running;
    const lookup = this.obtain(slot, fetch, signal).finally(() => this.pending.delete(key));
    this.pending.set(key, lookup);
    return lookup;
  }

  /** After a 401 with `stale`: forget it (unless another worker has already replaced it). */
  async invalidate(slot: TokenSlot, stale: AccessToken): Promise<void> {
    if (this.local.get(slot.tokenKey)?.token.id === stale.id) this.local.delete(slot.tokenKey);
    await this.redis.dropToken(slot.tokenKey, stale.id);
  }

  private async obtain(slot: TokenSlot, fetch: () => Promise<FetchedToken>, signal: AbortSignal): Promise<AccessToken> {
    for (;;) {
      const cached = await this.read(slot);
      if (cached) return cached;
      const lock = randomUUID();
      if (await this.redis.set(slot.lockKey, lock, 'PX', this.options.requestTimeoutMs + 1_000, 'NX')) {
        try {
          // A token stored between our read and our lock is as good as a new one.
          return (await this.read(slot)) ?? (await this.fetchAndStore(slot, fetch));
        } finally {
          await this.redis.releaseTokenLock(slot.lockKey, lock).catch(() => undefined);
        }
      }
      if (signal.aborted) throw new OAuthTokenError('gave up waiting for another worker’s token request', false, { cause: signal.reason });
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }

  /** The cached token, or null; throws a shared refusal. */
  private async read(slot: TokenSlot): Promise<AccessToken | null> {
    const entry = await this.redis.hgetall(slot.tokenKey);
    if (entry.fingerprint !== slot.fingerprint) return null;
    if (entry.failure) throw new OAuthTokenError(entry.failure, true);
    if (!entry.token || !entry.id || Number(entry.refreshAt) <= this.now()) return null;
    const token = { value: this.cipher.decrypt(entry.token), id: entry.id };
    this.remember(slot, token, Number(entry.refreshAt));
    return token;
  }

  private async fetchAndStore(slot: TokenSlot, fetch: () => Promise<FetchedToken>): Promise<AccessToken> {
    let fetched: FetchedToken;
    try {
      fetched = await fetch();
    } catch (error) {
      if (error instanceof OAuthTokenError && error.answered) {
        await this.redis
          .multi()
          .del(slot.tokenKey)
          .hset(slot.tokenKey, { fingerprint: slot.fingerprint, failure: error.message })
          .pexpire(slot.tokenKey, this.failureMemoryMs)
          .exec();
      }
      throw error;
    }
    const token = { value: fetched.value, id: randomUUID() };
    const keepMs = Math.floor(fetched.lifetimeMs - refreshMarginMs(fetched.lifetimeMs));
    if (keepMs <= 0) return token; // too short-lived to share: used once
    const refreshAt = this.now() + keepMs;
    await this.redis
      .multi()
      .del(slot.tokenKey)
      .hset(slot.tokenKey, {
        fingerprint: slot.fingerprint,
        token: this.cipher.encrypt(token.value),
        id: token.id,
        refreshAt: String(refreshAt),
      })
      .pexpire(slot.tokenKey, keepMs)
      .exec();
    this.remember(slot, token, refreshAt);
    return token;
  }

  private remember(slot: TokenSlot, token: AccessToken, refreshAt: number): void {
    this.local.delete(slot.tokenKey);
    this.local.set(slot.tokenKey, { token, fingerprint: slot.fingerprint, refreshAt });
    if (this.local.size > MAX_REMEMBERED) this.local.delete(this.local.keys().next().value as string);
  }
}
