import { Writable } from 'node:stream';
import pino from 'pino';
import { LOG_REDACT_PATHS, redactRequestSerializer, redactRequestUrl } from './log-redaction';

/** A logger with the apps' redaction that writes into `lines`. */
function redactingLogger(): { lines: string[]; logger: pino.Logger } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: pino({ redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' } }, sink) };
}

describe('log redaction', () => {
  it('never writes credentials, API keys, signing secrets or callback header values', () => {
    const { lines, logger } = redactingLogger();
    logger.info(
      { req: { headers: { authorization: 'Bearer pck_secret-key', cookie: 'sid=1', 'idempotency-key': 'k', accept: 'json' } } },
      'request',
    );
    logger.info(
      { partner: { apiKey: 'pck_created' }, callback: { signingSecret: 'whsec_abc', callbackHeaders: { 'X-Token': 'partner-token' } } },
      'created',
    );
    logger.info(
      {
        auth: { clientId: 'acme', clientSecret: 'oauth-client-secret' },
        token: { accessToken: 'oauth-access-token' },
        keys: { secretKey: 'whsk_abc' },
      },
      'transport',
    );
    const output = lines.join('');
    for (const secret of [
      'pck_secret-key',
      'sid=1',
      'pck_created',
      'whsec_abc',
      'partner-token',
      'oauth-client-secret',
      'oauth-access-token',
      'whsk_abc',
    ])
      expect(output).not.toContain(secret);
    expect(output).toContain('"clientId":"acme"');
    expect(output).toContain('"accept":"json"');
    expect(output.match(/\[redacted\]/g)?.length).toBeGreaterThanOrEqual(5);
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
