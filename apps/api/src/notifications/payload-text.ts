import { MAX_PAYLOAD_VALUES, scanJsonText } from '@callbacks/contracts';
import { DomainError } from '../common/domain-error';

/**
 * A payload is stored and sent exactly as the JSON text received, cut out of the raw body, so the
 * worker never parses it and integers above 2^53, number spellings and duplicate keys survive.
 * A payload with more than MAX_PAYLOAD_VALUES values is refused: parsing cost grows with values,
 * not bytes, and 256 KiB of `{}` is 87,000 of them.
 */
function checked(text: string | undefined, values: number | undefined, field: string): string {
  if (text === undefined || values === undefined) throw new Error(`the validated body has no ${field}`);
  if (values > MAX_PAYLOAD_VALUES) {
    throw new DomainError(422, 'payload_too_complex', `${field} holds more than ${MAX_PAYLOAD_VALUES} JSON values`, [
      { field, message: `must hold at most ${MAX_PAYLOAD_VALUES} JSON values (objects, arrays and scalars)` },
    ]);
  }
  return text;
}

/** The body parser drops a leading byte order mark before it parses; so does this. */
function withoutByteOrderMark(rawBody: string): string {
  return rawBody.replace(/^\uFEFF/, '');
}

/** The payload of a request: the whole body (`member` undefined), or one member of it ("payload" in a platform event). */
export function payloadText(rawBody: string, field: string, member?: string): string {
  const body = withoutByteOrderMark(rawBody);
  if (member === undefined) {
    const text = body.trim();
    return checked(text, scanJsonText(text, MAX_PAYLOAD_VALUES, 0).values, field);
  }
  const { members, memberValues } = scanJsonText(body);
  return checked(members.get(member), memberValues.get(member), field);
}

/** The payloads of a batch, `notifications[i].payload` for i < count, cut out in one pass over the body. */
export function batchPayloadTexts(rawBody: string, count: number): string[] {
  const { members, memberValues } = scanJsonText(withoutByteOrderMark(rawBody), Number.POSITIVE_INFINITY, 3);
  return Array.from({ length: count }, (_, index) => {
    const path = `notifications[${index}].payload`;
    return checked(members.get(path), memberValues.get(path), path);
  });
}
