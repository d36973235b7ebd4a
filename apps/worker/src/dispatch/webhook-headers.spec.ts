import { Webhook } from 'standardwebhooks';
import { generateSigningSecret } from '@callbacks/signing';
import { signingSecrets, webhookHeaders } from './webhook-headers';

const at = new Date('2026-11-26T10:00:00.900Z');

describe('webhookHeaders', () => {
  it('signs id, timestamp (whole seconds) and body so that a Standard Webhooks library verifies it, with each secret', () => {
    const [current, previous] = [generateSigningSecret(), generateSigningSecret()];
    const body = '{"type":"status.changed","data":{"a":1}}';
    const headers = webhookHeaders({ id: 'msg_1', at, body, secrets: [current, previous] });
    expect(headers['webhook-id']).toBe('msg_1');
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(at.getTime() / 1000)));
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const secret of [current, previous]) {
      // The library checks the timestamp against its own clock: verify as of the attempt.
      jest.useFakeTimers({ now: at });
      try {
        expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
      } finally {
        jest.useRealTimers();
      }
    }
  });

  it('sets its own headers after the custom ones, so a custom header never overrides them', () => {
    const headers = webhookHeaders({
      id: 'msg_2',
      at,
      body: '{}',
      secrets: [generateSigningSecret()],
      customHeaders: { 'x-tenant': 'acme', 'content-type': 'text/plain', 'webhook-id': 'forged' },
    });
    expect(headers).toMatchObject({ 'x-tenant': 'acme', 'content-type': 'application/json', 'webhook-id': 'msg_2' });
    expect(headers['user-agent']).toMatch(/partner-callbacks/i);
  });
});

describe('signingSecrets', () => {
  const open = (sealed: string) => `open(${sealed})`;

  it('signs with the previous secret too until its grace ends', () => {
    const callback = {
      signingSecretEncrypted: 'new',
      previousSigningSecretEncrypted: 'old',
      previousSecretExpiresAt: new Date(at.getTime() + 1),
    };
    expect(signingSecrets(callback, at, open)).toEqual(['open(new)', 'open(old)']);
    expect(signingSecrets({ ...callback, previousSecretExpiresAt: at }, at, open)).toEqual(['open(new)']);
    expect(signingSecrets({ ...callback, previousSigningSecretEncrypted: null }, at, open)).toEqual(['open(new)']);
  });
});
