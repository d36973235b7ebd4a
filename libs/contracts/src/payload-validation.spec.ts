import { NOTIFICATION_TYPES, SUPPORTED_NOTIFICATION_TYPE_IDS, unsupportedNotificationTypeDetail } from './notification-types';
import { MAX_PAYLOAD_DEPTH, validateNotificationPayload } from './payload-validation';
import { callbackHeadersProblem } from './dto/callback-headers';

describe('notification-type catalog', () => {
  it('holds types 5, 6 and 7 with distinct names and valid examples', () => {
    expect(SUPPORTED_NOTIFICATION_TYPE_IDS).toEqual([5, 6, 7]);
    expect(new Set(NOTIFICATION_TYPES.map((type) => type.name)).size).toBe(3);
    for (const type of NOTIFICATION_TYPES) expect(validateNotificationPayload(type.id, type.example)).toEqual([]);
  });

  it('lists the supported types when refusing one', () => {
    expect(unsupportedNotificationTypeDetail(8)).toBe(
      'notification type 8 is not supported; supported types are 5 (status.changed), 6 (message.created), 7 (document.available)',
    );
  });
});

describe('validateNotificationPayload', () => {
  it('accepts exactly one of the two ids, with anything else passed through', () => {
    expect(validateNotificationPayload(5, { processUniqueId: 'p-1' })).toEqual([]);
    expect(validateNotificationPayload(6, { simulationUniqueId: 's-1', extra: { nested: [1, 2] } })).toEqual([]);
  });

  it('refuses both and neither, naming the field', () => {
    expect(validateNotificationPayload(5, { processUniqueId: 'p', simulationUniqueId: 's' })).toEqual([
      { field: 'processUniqueId', message: 'give exactly one of processUniqueId or simulationUniqueId, not both' },
    ]);
    expect(validateNotificationPayload(7, { status: 'x' }, 'payload')).toEqual([
      { field: 'payload.processUniqueId', message: 'give exactly one of processUniqueId or simulationUniqueId; neither was given' },
    ]);
  });

  it('checks the ids are non-empty strings of at most 128 characters', () => {
    expect(validateNotificationPayload(5, { processUniqueId: '' })[0].field).toBe('processUniqueId');
    expect(validateNotificationPayload(5, { processUniqueId: 'x'.repeat(129) })[0].message).toMatch(/128/);
    expect(validateNotificationPayload(5, { simulationUniqueId: 42 })[0]).toEqual({
      field: 'simulationUniqueId',
      message: 'must be string',
    });
  });

  it('refuses non-objects, prototype keys and deep nesting', () => {
    expect(validateNotificationPayload(5, [1])).toEqual([{ field: 'body', message: 'must be a JSON object' }]);
    expect(validateNotificationPayload(5, null, 'payload')).toEqual([{ field: 'payload', message: 'must be a JSON object' }]);
    expect(validateNotificationPayload(5, JSON.parse('{"processUniqueId":"p","a":{"__proto__":{"x":1}}}'))).toEqual([
      { field: 'a.__proto__', message: 'is a reserved key' },
    ]);
    let deep: Record<string, unknown> = { processUniqueId: 'p' };
    for (let level = 0; level < MAX_PAYLOAD_DEPTH + 1; level++) deep = { processUniqueId: 'p', child: deep };
    expect(validateNotificationPayload(5, deep)[0].message).toMatch(/nested deeper/);
  });

  it('throws for a type outside the catalog (callers check the type first)', () => {
    expect(() => validateNotificationPayload(8, {})).toThrow(/not in the catalog/);
  });
});

describe('callbackHeadersProblem', () => {
  it.each([
    [{ 'X-Custom': 'v' }, null, null],
    [{}, null, null],
    [{ "X-!#$%&'*+.^_`|~": 'tab\tand obs-text \u00ff ~' }, null, null],
    [[], null, /must be an object/],
    [{ 'Webhook-Signature': 'x' }, 'Webhook-Signature', /set by the service/],
    [{ 'content-type': 'text/plain' }, 'content-type', /set by the service/],
    [{ Host: 'evil' }, 'Host', /set by the service/],
    [{ 'User-Agent': 'x' }, 'User-Agent', /set by the service/],
    [{ Expect: '100-continue' }, 'Expect', /connection/],
    [{ 'Keep-Alive': 'timeout=5' }, 'Keep-Alive', /connection/],
    [{ Upgrade: 'websocket' }, 'Upgrade', /connection/],
    [{ 'Transfer-Encoding': 'chunked' }, 'Transfer-Encoding', /connection/],
    [{ Connection: 'close' }, 'Connection', /connection/],
    [{ 'Bad Name': 'x' }, null, /not a valid header name/],
    [{ 'X-\u00e9': 'x' }, null, /not a valid header name/],
    [{ 'X-A': 1 }, 'X-A', /must be a string/],
    [{ 'X-A': 'line\r\nInjected: 1' }, 'X-A', /control characters/],
    [{ 'X-A': 'nul\u0000' }, 'X-A', /control characters/],
    [{ 'X-A': 'del\u007f' }, 'X-A', /control characters/],
    [{ 'X-A': 'caf\u0101' }, 'X-A', /above U\+00FF/],
    [{ 'X-A': '\u20ac 5' }, 'X-A', /above U\+00FF/],
    [{ 'X-A': 'x'.repeat(1025) }, 'X-A', /longer than 1024/],
    [{ 'X-A': 'a', 'x-a': 'b' }, 'x-a', /given twice/],
    [Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-${i}`, 'v'])), null, /at most 20/],
  ])('%p -> %p %p', (headers, header, expected) => {
    const problem = callbackHeadersProblem(headers);
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toEqual({ header, message: expect.stringMatching(expected) });
  });
});
