import { Writable } from 'node:stream';
import pino from 'pino';
import { LOG_REDACT_PATHS } from './log-redaction';

describe('log redaction', () => {
  it('never writes credentials, API keys, signing secrets or callback header values', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = pino({ redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' } }, sink);
    logger.info({ req: { headers: { authorization: 'Bearer pck_secret-key', cookie: 'sid=1', 'idempotency-key': 'k', accept: 'json' } } }, 'request');
    logger.info({ partner: { apiKey: 'pck_created' }, callback: { signingSecret: 'whsec_abc', callbackHeaders: { 'X-Token': 'partner-token' } } }, 'created');
    const output = lines.join('');
    for (const secret of ['pck_secret-key', 'sid=1', 'pck_created', 'whsec_abc', 'partner-token']) expect(output).not.toContain(secret);
    expect(output).toContain('"accept":"json"');
    expect(output.match(/\[redacted\]/g)?.length).toBeGreaterThanOrEqual(5);
  });
});
