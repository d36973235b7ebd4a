import { Writable } from 'node:stream';
import pino from 'pino';
import { LOG_REDACTION, redactRequestSerializer, redactRequestUrl } from './log-redaction';

/** A logger with the apps' redaction that writes into `lines`. */
function redactingLogger(): { lines: string[]; logger: pino.Logger } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: pino({ redact: LOG_REDACTION }, sink) };
}

describe('log redaction', () => {
  it('never writes credentials, API keys, signing secrets or unknown request headers; keeps the plainly harmless ones', () => {
    const { lines, logger } = redactingLogger();
    logger.info(
      {
        req: {
          headers: {
            authorization: 'Bearer pck_secret-key',
            cookie: 'sid=1',
            'idempotency-key': 'k',
            'x-api-token': 'tok-1',
            accept: 'json',
          },
        },
      },
      'request',
    );
    logger.info({ res: { headers: { 'set-cookie': 'portal_session=abc', 'x-request-id': 'r-1' } } }, 'response');
    logger.info({ partner: { apiKey: 'pck_created' }, callback: { signingSecret: 'whsec_abc' } }, 'created');
    logger.info(
      {
        auth: { clientId: 'acme', clientSecret: 'oauth-client-secret' },
        token: { accessToken: 'oauth-access-token' },
        keys: { secretKey: 'whsk_abc', privateKey: 'private-key-pem' },
      },
      'transport',
    );
    const output = lines.join('');
    for (const secret of [
      'pck_secret-key',
      'sid=1',
      '"k"',
      'portal_session=abc',
      'pck_created',
      'whsec_abc',
      'oauth-client-secret',
      'oauth-access-token',
      'whsk_abc',
      'private-key-pem',
    ])
      expect(output).not.toContain(secret);
    expect(output).toContain('"clientId":"acme"');
    expect(output).toContain('"accept":"json"');
    expect(output).toContain('"x-request-id":"r-1"');
  });

  // The field names are the product's: a callback's custom headers are `headers` on its entity and on
  // the API's callback body; an outgoing delivery carries them, with the signature, in `headers`.
  it.each([
    ['a callback, as loaded', { callback: { callbackUrl: 'https://p.example', headers: { 'X-Token': 'partner-token' } } }],
    ['the API callback body', { body: { callbackUrl: 'https://p.example', headers: { 'X-Token': 'partner-token' } } }],
    [
      'an outgoing delivery',
      { delivery: { url: 'https://p.example', headers: { 'x-token': 'partner-token', 'webhook-signature': 'v1,partner-token' } } },
    ],
    ['a delivery inside a context', { context: { delivery: { headers: { 'x-token': 'partner-token' } } } }],
    ['headers at the top level', { headers: { 'x-token': 'partner-token' } }],
    ['a request body as pino-http would add it', { req: { body: { headers: { 'X-Token': 'partner-token' } } } }],
  ])('never writes header values: %s', (_name, fields) => {
    const { lines, logger } = redactingLogger();
    logger.info(fields, 'logged');
    expect(lines.join('')).not.toContain('partner-token');
    expect(lines.join('')).toContain('[redacted]');
  });

  it('never writes a portal sign-in token from a request URL or its route parameters', () => {
    const token = '5mQ0w8zJrV1nX2cK4pL6tY8uA0bC2dE4fG6hI8jK0lM';
    expect(redactRequestUrl(`/portal/sign-in/${token}?utm=mail`)).toBe('/portal/sign-in/[redacted]?utm=mail');
    expect(redactRequestUrl('/portal/abc/deliveries?status=failed')).toBe('/portal/abc/deliveries?status=failed');
    expect(
      redactRequestSerializer({ url: `/portal/sign-in/${token}`, method: 'GET', params: { splat: ['portal', 'sign-in', token] } }),
    ).toEqual({
      url: '/portal/sign-in/[redacted]',
      method: 'GET',
      params: '[redacted]',
    });
    const other = { url: '/portal/abc', params: { partnerUniqueID: 'abc' } };
    expect(redactRequestSerializer({ ...other })).toEqual(other);
  });
});
