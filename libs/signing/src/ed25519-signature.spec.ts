import { createPublicKey, verify } from 'node:crypto';
import {
  ed25519PublicKey,
  generateEd25519KeyPair,
  signWebhookEd25519,
  signWebhookWithKeys,
  verifyWebhookEd25519,
} from './ed25519-signature';
import { generateSigningSecret, verifyWebhook } from './webhook-signature';

const content = {
  id: 'b7f6c1de-5a2c-4a41-9a3f-2f1f0e0c9d11',
  timestamp: 1_764_000_000,
  body: '{"type":"status.changed","data":{"processUniqueId":"p-1"}}',
};

/**
 * What a partner does with nothing but the published whpk_ key and Node's crypto: base64-decode the
 * raw 32 bytes, make a JWK of them, and check each v1a entry. None of our signing code is involved.
 */
function partnerVerifies(publicKey: string, header: string): boolean {
  const raw = Buffer.from(publicKey.replace(/^whpk_/, ''), 'base64');
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
  const signed = Buffer.from(`${content.id}.${content.timestamp}.${content.body}`);
  return header
    .split(' ')
    .filter((entry) => entry.startsWith('v1a,'))
    .some((entry) => verify(null, signed, key, Buffer.from(entry.slice(4), 'base64')));
}

describe('ed25519 (Standard Webhooks v1a) signatures', () => {
  it('makes whsk_/whpk_ keys of 32 raw bytes each, and the public key follows from the secret one', () => {
    const pair = generateEd25519KeyPair();
    expect(pair.secretKey).toMatch(/^whsk_[A-Za-z0-9+/]{43}=$/);
    expect(pair.publicKey).toMatch(/^whpk_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(pair.publicKey.slice(5), 'base64')).toHaveLength(32);
    expect(ed25519PublicKey(pair.secretKey)).toBe(pair.publicKey);
    expect(generateEd25519KeyPair().secretKey).not.toBe(pair.secretKey);
  });

  it('derives the public key of RFC 8032 test 1', () => {
    const secret = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
    const expected = Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex');
    expect(ed25519PublicKey(`whsk_${secret.toString('base64')}`)).toBe(`whpk_${expected.toString('base64')}`);
  });

  it('is verified by a partner holding only the published key (Node crypto, JWK)', () => {
    const pair = generateEd25519KeyPair();
    const header = signWebhookEd25519([pair.secretKey], content);
    expect(header).toMatch(/^v1a,[A-Za-z0-9+/]{86}==$/);
    expect(partnerVerifies(pair.publicKey, header)).toBe(true);
    expect(partnerVerifies(generateEd25519KeyPair().publicKey, header)).toBe(false);
  });

  it('signs with both keys during a rotation; each public key verifies alone', () => {
    const [current, previous] = [generateEd25519KeyPair(), generateEd25519KeyPair()];
    const header = signWebhookEd25519([current.secretKey, previous.secretKey], content);
    expect(header.split(' ')).toHaveLength(2);
    expect(partnerVerifies(current.publicKey, header)).toBe(true);
    expect(partnerVerifies(previous.publicKey, header)).toBe(true);
    const now = content.timestamp + 10;
    expect(verifyWebhookEd25519(current.publicKey, header, content, now)).toBe(true);
    expect(verifyWebhookEd25519(previous.publicKey, header, content, now)).toBe(true);
  });

  it('rejects a changed body, id or timestamp, a stale timestamp, and v1 entries', () => {
    const pair = generateEd25519KeyPair();
    const header = signWebhookEd25519([pair.secretKey], content);
    const now = content.timestamp;
    expect(verifyWebhookEd25519(pair.publicKey, header, content, now)).toBe(true);
    expect(verifyWebhookEd25519(pair.publicKey, header, { ...content, body: content.body + ' ' }, now)).toBe(false);
    expect(verifyWebhookEd25519(pair.publicKey, header, { ...content, id: 'other' }, now)).toBe(false);
    expect(verifyWebhookEd25519(pair.publicKey, header, { ...content, timestamp: now + 1 }, now)).toBe(false);
    expect(verifyWebhookEd25519(pair.publicKey, header, content, now + 301)).toBe(false);
    expect(verifyWebhookEd25519(pair.publicKey, header.replace('v1a,', 'v1,'), content, now)).toBe(false);
  });

  it('puts v1 and v1a side by side for "both", each verifiable on its own', () => {
    const secret = generateSigningSecret();
    const pair = generateEd25519KeyPair();
    const header = signWebhookWithKeys({ hmacSecrets: [secret], ed25519SecretKeys: [pair.secretKey] }, content);
    expect(header).toMatch(/^v1,\S+ v1a,\S+$/);
    expect(verifyWebhook(secret, header, content, content.timestamp)).toBe(true);
    expect(partnerVerifies(pair.publicKey, header)).toBe(true);
    expect(signWebhookWithKeys({ hmacSecrets: [], ed25519SecretKeys: [pair.secretKey] }, content)).toMatch(/^v1a,\S+$/);
    expect(() => signWebhookWithKeys({ hmacSecrets: [], ed25519SecretKeys: [] }, content)).toThrow(/at least one/);
  });

  it('refuses ids with ".", malformed keys and an empty key list', () => {
    const pair = generateEd25519KeyPair();
    expect(() => signWebhookEd25519([pair.secretKey], { ...content, id: 'a.b' })).toThrow(/must not contain/);
    expect(() => signWebhookEd25519([], content)).toThrow(/at least one/);
    expect(() => signWebhookEd25519([pair.publicKey], content)).toThrow(/whsk_/);
    expect(() => signWebhookEd25519(['whsk_AAAA'], content)).toThrow(/32 bytes/);
  });
});
