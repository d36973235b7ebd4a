import type { FieldError } from './field-error';

/** Keys that could reach an object's prototype if a consumer merged the body into an object. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
/** Deeper JSON than this is refused before anything walks it recursively. */
export const MAX_JSON_DEPTH = 32;

function joinPath(prefix: string, key: string): string {
  return prefix ? `${prefix}.${key}` : key;
}

/**
 * Walks parsed JSON once, without recursion, for what no schema should have to think about:
 * nesting deeper than `maxDepth`, prototype keys, and NUL characters (PostgreSQL text cannot
 * hold them). Returns the first problem found, or null.
 */
export function inspectJson(value: unknown, root = '', maxDepth = MAX_JSON_DEPTH): FieldError | null {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: root, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, path, depth } = stack.pop()!;
    if (typeof current === 'string') {
      if (current.includes('\u0000')) return { field: path || 'body', message: 'must not contain NUL characters' };
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= maxDepth) return { field: path || 'body', message: `is nested deeper than ${maxDepth} levels` };
    const isArray = Array.isArray(current);
    for (const [key, child] of Object.entries(current)) {
      const childPath = isArray ? `${path}[${key}]` : joinPath(path, key);
      if (!isArray && RESERVED_KEYS.has(key)) return { field: childPath, message: 'is a reserved key' };
      if (key.includes('\u0000')) return { field: path || 'body', message: 'has a key with a NUL character' };
      stack.push({ value: child, path: childPath, depth: depth + 1 });
    }
  }
  return null;
}
