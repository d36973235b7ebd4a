import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { generateSigningSecret, signWebhook, verifyWebhook } from './webhook-signature';

const webhookId = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const now = 1_764_000_000;

describe('signature round trip (property-based)', () => {
  it('verifies what it signed, with any body and any timestamp within tolerance', () => {
    fc.assert(
      fc.property(webhookId, fc.string({ maxLength: 2_000 }), fc.integer({ min: -300, max: 300 }), (id, body, skew) => {
        const secret = generateSigningSecret();
        const timestamp = now + skew;
        expect(verifyWebhook(secret, signWebhook([secret], { id, timestamp, body }), { id, timestamp, body }, now)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('is accepted by the standardwebhooks package for any JSON body (it parses what it verifies)', () => {
    fc.assert(
      fc.property(webhookId, fc.jsonValue(), (id, value) => {
        const secret = generateSigningSecret();
        const body = JSON.stringify(value);
        const timestamp = Math.floor(Date.now() / 1000);
        const headers = {
          'webhook-id': id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook([secret], { id, timestamp, body }),
        };
        expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
      }),
      { numRuns: 200 },
    );
  });

  it('rejects any change to the body', () => {
    fc.assert(
      fc.property(webhookId, fc.string({ maxLength: 500 }), fc.string({ minLength: 1, maxLength: 20 }), (id, body, change) => {
        const secret = generateSigningSecret();
        const header = signWebhook([secret], { id, timestamp: now, body });
        expect(verifyWebhook(secret, header, { id, timestamp: now, body: body + change }, now)).toBe(false);
      }),
    );
  });
});
