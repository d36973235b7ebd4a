import { createPublicKey, verify } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { generateEd25519KeyPair, generateSigningSecret } from '@callbacks/signing';
import { signingKeys, webhookHeaders } from './webhook-headers';

const at = new Date('2026-11-26T10:00:00.900Z');

/** A partner's v1a check with nothing but the published key. */
function v1aVerifies(publicKey: string, headers: Record<string, string>, body: string): boolean {
  const x = Buffer.from(publicKey.slice('whpk_'.length), 'base64').toString('base64url');
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
  const signed = Buffer.from(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`);
  return headers['webhook-signature']
    .split(' ')
    .filter((entry) => entry.startsWith('v1a,'))
    .some((entry) => verify(null, signed, key, Buffer.from(entry.slice(4), 'base64')));
}

describe('webhookHeaders', () => {
  it('signs id, timestamp (whole seconds) and body so that a Standard Webhooks library verifies it, with each secret', () => {
    const [current, previous] = [generateSigningSecret(), generateSigningSecret()];
    const body = '{"type":"status.changed","data":{"a":1}}';
    const headers = webhookHeaders({ id: 'msg_1', at, body, keys: { hmacSecrets: [current, previous], ed25519SecretKeys: [] } });
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

  it('adds v1a entries that the published ed25519 key verifies, beside v1 when both are asked for', () => {
    const secret = generateSigningSecret();
    const pair = generateEd25519KeyPair();
    const body = '{"a":1}';
    const headers = webhookHeaders({ id: 'msg_3', at, body, keys: { hmacSecrets: [secret], ed25519SecretKeys: [pair.secretKey] } });
    expect(headers['webhook-signature']).toMatch(/^v1,\S+ v1a,\S+$/);
    expect(v1aVerifies(pair.publicKey, headers, body)).toBe(true);
    jest.useFakeTimers({ now: at });
    try {
      expect(new Webhook(secret).verify(body, headers)).toEqual({ a: 1 });
    } finally {
      jest.useRealTimers();
    }
  });

  it('sets its own headers after the custom ones, so a custom header never overrides them', () => {
    const headers = webhookHeaders({
      id: 'msg_2',
      at,
      body: '{}',
      keys: { hmacSecrets: [generateSigningSecret()], ed25519SecretKeys: [] },
      customHeaders: { 'x-tenant': 'acme', 'content-type': 'text/plain', 'webhook-id': 'forged' },
    });
    expect(headers).toMatchObject({ 'x-tenant': 'acme', 'content-type': 'application/json', 'webhook-id': 'msg_2' });
    expect(headers['user-agent']).toMatch(/partner-callbacks/i);
  });
});

describe('signingKeys', () => {
  const open = (sealed: string) => `open(${sealed})`;
  const callback = {
    signatureScheme: 'hmac' as const,
    signingSecretEncrypted: 'new',
    previousSigningSecretEncrypted: 'old',
    previousSecretExpiresAt: new Date(at.getTime() + 1),
    ed25519SecretKeyEncrypted: 'ed-new',
    previousEd25519SecretKeyEncrypted: 'ed-old',
    previousEd25519ExpiresAt: new Date(at.getTime() + 1),
  };

  it('signs with the previous secret too until its grace ends', () => {
    expect(signingKeys(callback, at, open)).toEqual({ hmacSecrets: ['open(new)', 'open(old)'], ed25519SecretKeys: [] });
    expect(signingKeys({ ...callback, previousSecretExpiresAt: at }, at, open).hmacSecrets).toEqual(['open(new)']);
    expect(signingKeys({ ...callback, previousSigningSecretEncrypted: null }, at, open).hmacSecrets).toEqual(['open(new)']);
  });

  it('takes the keys of the callback’s scheme: ed25519 alone, or both, each with its previous key during its grace', () => {
    expect(signingKeys({ ...callback, signatureScheme: 'ed25519' }, at, open)).toEqual({
      hmacSecrets: [],
      ed25519SecretKeys: ['open(ed-new)', 'open(ed-old)'],
    });
    expect(signingKeys({ ...callback, signatureScheme: 'both', previousEd25519ExpiresAt: at }, at, open)).toEqual({
      hmacSecrets: ['open(new)', 'open(old)'],
      ed25519SecretKeys: ['open(ed-new)'],
    });
  });
});
