import fc from 'fast-check';
import { inspectJson } from './json-inspection';
import { validateNotificationPayload } from './payload-validation';

const id = fc.string({ minLength: 1, maxLength: 128 }).filter((text) => !text.includes('\u0000'));
const extra = fc.dictionary(
  fc
    .string({ minLength: 1, maxLength: 20 })
    .filter(
      (key) => !['processUniqueId', 'simulationUniqueId', '__proto__', 'constructor', 'prototype'].includes(key) && !key.includes('\u0000'),
    ),
  fc.oneof(
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.string().filter((text) => !text.includes('\u0000')),
  ),
  { maxKeys: 5 },
);
const type = fc.constantFrom(5, 6, 7);

describe('payload validator (property-based)', () => {
  it('accepts any payload with exactly one of the two ids', () => {
    fc.assert(
      fc.property(type, fc.constantFrom('processUniqueId', 'simulationUniqueId'), id, extra, (typeId, key, value, rest) => {
        const payload = { ...rest, [key]: value };
        // Documented optional fields are strings; drop generated values that collide with them.
        for (const documented of [
          'status',
          'previousStatus',
          'changedAt',
          'messageId',
          'author',
          'createdAt',
          'documentId',
          'documentType',
          'fileName',
        ])
          delete payload[documented];
        expect(validateNotificationPayload(typeId, payload)).toEqual([]);
      }),
    );
  });

  it('refuses both or neither, always naming processUniqueId', () => {
    fc.assert(
      fc.property(type, id, id, extra, fc.boolean(), (typeId, process, simulation, rest, both) => {
        const payload = both ? { ...rest, processUniqueId: process, simulationUniqueId: simulation } : rest;
        const errors = validateNotificationPayload(typeId, payload);
        expect(errors.map((error) => error.field)).toContain('processUniqueId');
      }),
    );
  });

  it('never throws, whatever JSON it is given, and always explains a refusal', () => {
    fc.assert(
      fc.property(type, fc.jsonValue({ maxDepth: 25 }), (typeId, value) => {
        const errors = validateNotificationPayload(typeId, value, 'payload');
        for (const error of errors) expect(error).toEqual({ field: expect.stringMatching(/^payload/), message: expect.any(String) });
      }),
    );
  });

  it('inspectJson finds NUL characters and prototype keys wherever they are', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.constantFrom('a\u0000b', '__proto__'), (value, poison) => {
        const wrapped = poison === '__proto__' ? JSON.parse(`{"x":${JSON.stringify(value)},"__proto__":1}`) : { x: value, y: [poison] };
        expect(inspectJson(wrapped)).not.toBeNull();
      }),
    );
  });
});
