/**
 * Compose's variable interpolation, as the Compose Specification defines it (12-interpolation.md):
 * `$VAR` and `${VAR}`; `${VAR:-default}` and `${VAR-default}`; `${VAR:?error}` and `${VAR?error}`;
 * `${VAR:+replacement}` and `${VAR+replacement}` (with `:`, an empty value counts as unset); operands
 * interpolated in turn (nesting); `$$` for a literal `$`; a `$` not followed by a name or `${` kept
 * as it is; an unset variable without a default becomes "" (compose warns). Applied to every string
 * value of the parsed file, never to keys, as compose does before it merges or validates anything.
 * No Docker engine (nor the compose plugin) is available here, so the compose file is checked
 * through this; compose-interpolation.spec.ts holds it to the specification's own examples.
 */
export class ComposeInterpolationError extends Error {}

export type Variables = Record<string, string | undefined>;

const NAME = /^[_a-zA-Z][_a-zA-Z0-9]*/;
const BRACED = /^([_a-zA-Z][_a-zA-Z0-9]*)(?:(:-|-|:\?|\?|:\+|\+)([\s\S]*))?$/;

/** The index of the `}` closing a `${` whose content starts at `from`, nested `${…}` skipped; -1 if none. */
function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '$' && text[i + 1] === '$') i++;
    else if (text[i] === '$' && text[i + 1] === '{') {
      depth++;
      i++;
    } else if (text[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function braced(inner: string, variables: Variables): string {
  const match = BRACED.exec(inner);
  if (!match) throw new ComposeInterpolationError(`invalid interpolation format for "\${${inner}}"`);
  const [, name, operator, operand = ''] = match;
  const value = variables[name];
  const set = value !== undefined;
  const nonEmpty = set && value !== '';
  switch (operator) {
    case undefined:
      return value ?? '';
    case ':-':
      return nonEmpty ? value : interpolate(operand, variables);
    case '-':
      return set ? value : interpolate(operand, variables);
    case ':?':
    case '?':
      if (operator === ':?' ? nonEmpty : set) return value!;
      throw new ComposeInterpolationError(`required variable ${name} is missing a value: ${interpolate(operand, variables)}`);
    case ':+':
      return nonEmpty ? interpolate(operand, variables) : '';
    default:
      return set ? interpolate(operand, variables) : '';
  }
}

/** One string, interpolated. */
export function interpolate(text: string, variables: Variables): string {
  let out = '';
  for (let i = 0; i < text.length;) {
    if (text[i] !== '$') {
      out += text[i++];
      continue;
    }
    if (text[i + 1] === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (text[i + 1] === '{') {
      const end = closingBrace(text, i + 2);
      if (end < 0) throw new ComposeInterpolationError(`invalid interpolation format: unterminated "\${" in "${text}"`);
      out += braced(text.slice(i + 2, end), variables);
      i = end + 1;
      continue;
    }
    const name = NAME.exec(text.slice(i + 1))?.[0];
    if (name) {
      out += variables[name] ?? '';
      i += 1 + name.length;
      continue;
    }
    out += text[i++];
  }
  return out;
}

/** Every string value of a parsed compose file, interpolated (keys and non-strings as they are). */
export function interpolateTree<T>(tree: T, variables: Variables): T {
  if (typeof tree === 'string') return interpolate(tree, variables) as T;
  if (Array.isArray(tree)) return tree.map((item) => interpolateTree(item, variables)) as T;
  if (tree !== null && typeof tree === 'object')
    return Object.fromEntries(Object.entries(tree).map(([key, value]) => [key, interpolateTree(value, variables)])) as T;
  return tree;
}
