import { randomBytes } from 'node:crypto';
import { SecretCipher } from './secret-cipher';

describe('SecretCipher', () => {
  const key = randomBytes(32);

  it('round-trips and never stores the plaintext', () => {
    const cipher = new SecretCipher(key);
    const stored = cipher.encrypt('whsec_plain');
    expect(stored).toMatch(/^v1\./);
    expect(stored).not.toContain('whsec_plain');
    expect(cipher.encrypt('whsec_plain')).not.toBe(stored);
    expect(cipher.decrypt(stored)).toBe('whsec_plain');
  });

  it('fails on a wrong key or a tampered row', () => {
    const stored = new SecretCipher(key).encrypt('whsec_plain');
    expect(() => new SecretCipher(randomBytes(32)).decrypt(stored)).toThrow(/cannot be decrypted/);
    const parts = stored.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(() => new SecretCipher(key).decrypt(parts.join('.'))).toThrow(/cannot be decrypted/);
    expect(() => new SecretCipher(key).decrypt('plain')).toThrow(/not an encrypted secret/);
  });

  it('decrypts with an old key while a new one is introduced, and says which rows need re-encryption', () => {
    const oldKey = randomBytes(32);
    const storedWithOld = new SecretCipher(oldKey).encrypt('whsec_old');
    const rotating = new SecretCipher(key, [oldKey]);
    expect(rotating.decrypt(storedWithOld)).toBe('whsec_old');
    expect(rotating.needsReencryption(storedWithOld)).toBe(true);
    expect(rotating.needsReencryption(rotating.encrypt('whsec_new'))).toBe(false);
  });
});
