import { Webhook } from 'standardwebhooks';
import { generateSigningSecret, signWebhook, verifyWebhook } from './webhook-signature';

const content = {
  id: 'b7f6c1de-5a2c-4a41-9a3f-2f1f0e0c9d11',
  timestamp: 1_764_000_000,
  body: '{"type":"status.changed","data":{"processUniqueId":"p-1"}}',
};

describe('Standard Webhooks signatures', () => {
  it('creates whsec_ secrets of 32 random bytes', () => {
    const secret = generateSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(generateSigningSecret()).not.toBe(secret);
  });

  it('matches the Standard Webhooks reference vector', () => {
    // From the standard-webhooks specification's test vectors.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const header = signWebhook([secret], { id: 'msg_p5jXN8AQM9LWM0D4loKWxJek', timestamp: 1614265330, body: '{"test": 2432232314}' });
    expect(header).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('is verified by the standardwebhooks npm package that partners use', () => {
    const secret = generateSigningSecret();
    const timestamp = Math.floor(Date.now() / 1000);
    const header = signWebhook([secret], { ...content, timestamp });
    const verified = new Webhook(secret).verify(content.body, {
      'webhook-id': content.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': header,
    });
    expect(verified).toEqual(JSON.parse(content.body));
  });

  it('signs with every secret during a rotation, and each secret verifies alone', () => {
    const [current, previous] = [generateSigningSecret(), generateSigningSecret()];
    const header = signWebhook([current, previous], content);
    expect(header.split(' ')).toHaveLength(2);
    const now = content.timestamp + 10;
    expect(verifyWebhook(current, header, content, now)).toBe(true);
    expect(verifyWebhook(previous, header, content, now)).toBe(true);
    expect(verifyWebhook(generateSigningSecret(), header, content, now)).toBe(false);
  });

  it('rejects a changed body, id or timestamp, and a stale timestamp', () => {
    const secret = generateSigningSecret();
    const header = signWebhook([secret], content);
    const now = content.timestamp;
    expect(verifyWebhook(secret, header, { ...content, body: content.body + ' ' }, now)).toBe(false);
    expect(verifyWebhook(secret, header, { ...content, id: 'other' }, now)).toBe(false);
    expect(verifyWebhook(secret, header, { ...content, timestamp: now + 1 }, now)).toBe(false);
    expect(verifyWebhook(secret, header, content, now + 301)).toBe(false);
  });

  it('refuses ids with "." and an empty secret list', () => {
    expect(() => signWebhook([generateSigningSecret()], { ...content, id: 'a.b' })).toThrow(/must not contain/);
    expect(() => signWebhook([], content)).toThrow(/at least one/);
  });
});
