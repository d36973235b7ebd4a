import { DomainError } from './domain-error';

const CURSOR_VERSION = 'v1';

/** Cursors are opaque to callers: a position in insertion order (a table's seq), base64url-encoded. */
export function encodeSeqCursor(seq: string): string {
  return Buffer.from(`${CURSOR_VERSION}:${seq}`).toString('base64url');
}

/** The seq a cursor stands for; a 400 naming `cursor` when it is not one this API returned. */
export function decodeSeqCursor(cursor: string): string {
  const [version, seq] = Buffer.from(cursor, 'base64url').toString('utf8').split(':');
  if (version !== CURSOR_VERSION || !/^\d{1,18}$/.test(seq ?? '')) {
    throw DomainError.validation([{ field: 'cursor', message: 'is not a cursor this API returned' }]);
  }
  return seq;
}
