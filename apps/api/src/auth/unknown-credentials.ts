import { Injectable } from '@nestjs/common';

/** How long a well-formed credential that the database did not know is refused without asking again. */
export const UNKNOWN_CREDENTIAL_MS = 60_000;
const MAX_REMEMBERED = 10_000;

/**
 * A negative cache: hashes of credentials that carried a valid MAC (or an old key's shape) but named
 * no active key, session or link: revoked, ended, swept. None of them can become valid again (tokens
 * are random and never reissued), so remembering them briefly only saves database round trips.
 * Bounded: past MAX_REMEMBERED the oldest is forgotten.
 */
@Injectable()
export class UnknownCredentials {
  private readonly expiresAt = new Map<string, number>();

  has(hash: string): boolean {
    const until = this.expiresAt.get(hash);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.expiresAt.delete(hash);
    return false;
  }

  add(hash: string): void {
    this.expiresAt.delete(hash);
    if (this.expiresAt.size >= MAX_REMEMBERED) this.expiresAt.delete(this.expiresAt.keys().next().value!);
    this.expiresAt.set(hash, Date.now() + UNKNOWN_CREDENTIAL_MS);
  }
}
