import { ComposeInterpolationError, interpolate, interpolateTree } from './support/compose-interpolation';

// The Compose Specification's forms and examples (12-interpolation.md), with SET=value, EMPTY="" and UNSET unset.
const variables = { SET: 'value', EMPTY: '', FOO: 'foo' };

describe('compose interpolation, held to the Compose Specification', () => {
  it.each([
    ['$SET', 'value'],
    ['${SET}', 'value'],
    ['x-${SET}-y', 'x-value-y'],
    ['${UNSET}', ''],
    ['host-$UNSET', 'host-'],
    ['${SET:-default}', 'value'],
    ['${EMPTY:-default}', 'default'],
    ['${UNSET:-default}', 'default'],
    ['${EMPTY-default}', ''],
    ['${UNSET-default}', 'default'],
    ['${SET:+replacement}', 'replacement'],
    ['${EMPTY:+replacement}', ''],
    ['${EMPTY+replacement}', 'replacement'],
    ['${UNSET+replacement}', ''],
    ['${UNSET:-${FOO}}', 'foo'],
    ['${UNSET:-${ALSO_UNSET:-default}}', 'default'],
    ['${SET?$FOO}', 'value'],
    ['$$VAR_NOT_INTERPOLATED_BY_COMPOSE', '$VAR_NOT_INTERPOLATED_BY_COMPOSE'],
    ['$${ESCAPED}', '${ESCAPED}'],
    ['cost: $5 and $-x', 'cost: $5 and $-x'],
  ])('%s → %p', (text, expected) => expect(interpolate(text, variables)).toBe(expected));

  it.each([
    ['${UNSET:?needed}', /required variable UNSET is missing a value: needed/],
    ['${EMPTY:?needed}', /required variable EMPTY/],
    ['${UNSET?needed $FOO}', /required variable UNSET is missing a value: needed foo/],
    ['${SET/foo/bar}', /invalid interpolation format/],
    ['${SET', /unterminated/],
  ])('%s fails: %p', (text, message) => {
    expect(() => interpolate(text, variables)).toThrow(ComposeInterpolationError);
    expect(() => interpolate(text, variables)).toThrow(message);
  });

  it('allows an empty value where only unset is refused', () => expect(interpolate('${EMPTY?needed}', variables)).toBe(''));

  it('interpolates every string value of a file, never its keys', () => {
    expect(interpolateTree({ $SET: ['${SET}', 3, true, { nested: '${UNSET:-d}' }] }, variables)).toEqual({
      $SET: ['value', 3, true, { nested: 'd' }],
    });
  });
});
