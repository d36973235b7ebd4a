import { MAX_PAYLOAD_VALUES, scanJsonText } from '@callbacks/contracts';
import { DomainError } from '../common/domain-error';

/**
 * The payload as the JSON text received, cut out of the raw body (`member` names where it sits in a
 * platform event; none when the body is the payload). It is stored and sent exactly as given, so the
 * worker never parses it and integers above 2^53, number spellings and duplicate keys survive.
 * A payload with more than MAX_PAYLOAD_VALUES values is refused: parsing cost grows with values,
 * not bytes, and 256 KiB of `{}` is 87,000 of them.
 */
export function payloadText(rawBody: string, field: string, member?: string): string {
  // The body parser drops a leading byte order mark before it parses; so does this.
  const body = rawBody.replace(/^\uFEFF/, '');
  const text = member === undefined ? body.trim() : scanJsonText(body).members.get(member);
  if (text === undefined) throw new Error(`the validated body has no "${member}" member`);
  if (scanJsonText(text, MAX_PAYLOAD_VALUES).values > MAX_PAYLOAD_VALUES) {
    throw new DomainError(422, 'payload_too_complex', `${field} holds more than ${MAX_PAYLOAD_VALUES} JSON values`, [
      { field, message: `must hold at most ${MAX_PAYLOAD_VALUES} JSON values (objects, arrays and scalars)` },
    ]);
  }
  return text;
}
