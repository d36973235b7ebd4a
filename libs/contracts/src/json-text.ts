/** A payload holds at most this many JSON values (objects, arrays, strings, numbers, booleans, nulls). */
export const MAX_PAYLOAD_VALUES = 10_000;

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

export interface JsonTextScan {
  /** How many JSON values the text holds, counting containers and scalars alike (keys are not values). */
  values: number;
  /** The text of each member value of the top-level object, by key (the last one wins, as in JSON.parse). */
  members: Map<string, string>;
}

function skipWhitespace(text: string, at: number): number {
  while (at < text.length && WHITESPACE.has(text.charCodeAt(at))) at++;
  return at;
}

/** The index just past the string whose opening quote is at `at`. */
function skipString(text: string, at: number): number {
  for (let i = at + 1; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === BACKSLASH) i++;
    else if (code === QUOTE) return i + 1;
  }
  return text.length;
}

/**
 * Reads JSON text that is already known to be valid (the body parser accepted it) without building
 * any object: counts its values, and cuts out the member values of the top-level object as the
 * exact text received. Stops counting past `maxValues` so that a hostile body costs one pass at most.
 * Iterative, so depth costs no stack.
 */
export function scanJsonText(text: string, maxValues = Number.POSITIVE_INFINITY): JsonTextScan {
  const members = new Map<string, string>();
  let values = 0;
  let depth = 0;
  let memberKey: string | null = null;
  let memberStart = -1;
  const closeMember = (end: number) => {
    if (memberKey !== null) members.set(memberKey, text.slice(memberStart, end).trimEnd());
    memberKey = null;
  };
  for (let i = skipWhitespace(text, 0); i < text.length && values <= maxValues; ) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      const end = skipString(text, i);
      const next = skipWhitespace(text, end);
      if (text.charCodeAt(next) === COLON) {
        if (depth === 1) {
          memberKey = JSON.parse(text.slice(i, end)) as string;
          memberStart = skipWhitespace(text, next + 1);
        }
        i = next + 1;
      } else {
        values++;
        i = end;
      }
      continue;
    }
    if (code === 0x7b || code === 0x5b) {
      values++;
      depth++;
    } else if (code === 0x7d || code === 0x5d) {
      if (depth === 1) closeMember(i);
      depth--;
    } else if (code === 0x2c) {
      if (depth === 1) closeMember(i);
    } else if (!WHITESPACE.has(code)) {
      // A number, true, false or null: one value, up to the next delimiter.
      values++;
      while (i + 1 < text.length && !WHITESPACE.has(text.charCodeAt(i + 1)) && !',]}'.includes(text[i + 1])) i++;
    }
    i++;
  }
  return { values, members };
}
