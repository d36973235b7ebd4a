/** A payload holds at most this many JSON values (objects, arrays, strings, numbers, booleans, nulls). */
export const MAX_PAYLOAD_VALUES = 10_000;

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

export interface JsonTextScan {
  /** How many JSON values the text holds, counting containers and scalars alike (keys are not values). */
  values: number;
  /**
   * The exact text received of each value down to `depth` levels, by path: `payload` for a member of
   * the top-level object, `notifications[0].payload` deeper down. Of duplicate keys the last one
   * wins, as in JSON.parse.
   */
  members: Map<string, string>;
  /** How many JSON values each of those holds, itself included. */
  memberValues: Map<string, number>;
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

/** An open object or array; `path` is null below the depth whose members are cut out. */
interface Container {
  path: string | null;
  isArray: boolean;
  index: number;
  key: string;
  start: number;
  valuesBefore: number;
}

/**
 * Reads JSON text that is already known to be valid (the body parser accepted it) without building
 * any object: counts its values, and cuts out the values down to `depth` levels (1: the members of
 * the top-level object) as the exact text received, with their own value counts. Stops counting
 * past `maxValues` so that a hostile body costs one pass at most. One pass, iterative, so depth
 * costs no stack.
 */
export function scanJsonText(text: string, maxValues = Number.POSITIVE_INFINITY, depth = 1): JsonTextScan {
  const members = new Map<string, string>();
  const memberValues = new Map<string, number>();
  const open: Container[] = [];
  let values = 0;
  /** The path of a value starting now, or null when it is not cut out. */
  const pathHere = (): string | null => {
    const parent = open.at(-1);
    if (!parent || parent.path === null || open.length > depth) return null;
    if (parent.isArray) return `${parent.path}[${parent.index}]`;
    return parent.path === '' ? parent.key : `${parent.path}.${parent.key}`;
  };
  const record = (path: string | null, start: number, end: number, valuesBefore: number) => {
    if (path === null) return;
    members.set(path, text.slice(start, end));
    memberValues.set(path, values - valuesBefore);
  };
  for (let i = skipWhitespace(text, 0); i < text.length && values <= maxValues;) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      const end = skipString(text, i);
      const next = skipWhitespace(text, end);
      if (text.charCodeAt(next) === COLON) {
        const parent = open.at(-1)!;
        // Keys are only decoded where their values are cut out.
        if (parent.path !== null && open.length <= depth) parent.key = JSON.parse(text.slice(i, end)) as string;
        i = next + 1;
      } else {
        values++;
        record(pathHere(), i, end, values - 1);
        i = end;
      }
      continue;
    }
    if (code === 0x7b || code === 0x5b) {
      const path = open.length === 0 ? '' : pathHere();
      open.push({ path, isArray: code === 0x5b, index: 0, key: '', start: i, valuesBefore: values });
      values++;
    } else if (code === 0x7d || code === 0x5d) {
      const closed = open.pop()!;
      // The document itself is not one of its members.
      if (open.length > 0) record(closed.path, closed.start, i + 1, closed.valuesBefore);
    } else if (code === 0x2c) {
      open.at(-1)!.index++;
    } else if (!WHITESPACE.has(code)) {
      // A number, true, false or null: one value, up to the next delimiter.
      const start = i;
      values++;
      while (i + 1 < text.length && !WHITESPACE.has(text.charCodeAt(i + 1)) && !',]}'.includes(text[i + 1])) i++;
      record(pathHere(), start, i + 1, values - 1);
    }
    i++;
  }
  return { values, members, memberValues };
}
