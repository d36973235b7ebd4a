import fc from 'fast-check';
import { scanJsonText } from './json-text';

/** The reference count: every value of the parsed document, containers included. */
function countValues(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 1;
  return 1 + Object.values(value).reduce<number>((sum, child) => sum + countValues(child), 0);
}

describe('scanJsonText', () => {
  it.each([
    ['{}', 1],
    ['[]', 1],
    ['"a:b"', 1],
    ['{"a":1,"b":[true,false,null,"x"],"c":{"d":-1.5e3}}', 9],
    ['{"k\\"ey:":"v\\\\","e":"\\u0022"}', 3],
    [' [ 1 , 2 ] ', 3],
  ])('counts the values of %s as %i', (text, values) => {
    expect(scanJsonText(text).values).toBe(values);
  });

  it('cuts out member values byte for byte: number spelling, big integers, duplicate keys, spacing', () => {
    const text = '{ "processUniqueId" : "P-1" , "payload" : {"n": 12345678901234567890, "x": 1.0E2, "d": 1, "d": 2} , "z":[1 , 2] }';
    const { members } = scanJsonText(text);
    expect(members.get('payload')).toBe('{"n": 12345678901234567890, "x": 1.0E2, "d": 1, "d": 2}');
    expect(members.get('processUniqueId')).toBe('"P-1"');
    expect(members.get('z')).toBe('[1 , 2]');
  });

  it('takes the last of duplicate top-level keys, as JSON.parse does', () => {
    expect(scanJsonText('{"payload":{"a":1},"payload":{"b":2}}').members.get('payload')).toBe('{"b":2}');
  });

  it('stops counting past the limit', () => {
    const hostile = `{"items":[${'{},'.repeat(87_000)}{}]}`;
    expect(scanJsonText(hostile, 10_000).values).toBe(10_001);
  });

  it('agrees with JSON.parse on any document (property-based)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(0, 2), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        const scan = scanJsonText(text);
        expect(scan.values).toBe(countValues(value));
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
          for (const [key, member] of scan.members) expect(JSON.parse(member)).toEqual((value as Record<string, unknown>)[key]);
          expect(scan.members.size).toBe(Object.keys(value).length);
        }
      }),
    );
  });
});
