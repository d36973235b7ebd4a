import { randomBytes } from 'node:crypto';
import { apiKeyShape } from './api-key';
import { CredentialMac } from './credential-mac';

describe('CredentialMac', () => {
  const current = randomBytes(32);
  const retired = randomBytes(32);
  const mac = new CredentialMac({ secretsEncryptionKey: current, previousSecretsEncryptionKeys: [] });

  it('verifies what it issued, for that purpose only', () => {
    const token = mac.generate('portal-session');
    expect(token).toMatch(/^[A-Za-z0-9_-]{65}$/);
    expect(mac.verify('portal-session', token)).toBe(true);
    expect(mac.verify('portal-link', token)).toBe(false);
    expect(mac.verify('api-key', token)).toBe(false);
  });

  it('refuses a changed character, a cut token, another deployment’s token and non-tokens', () => {
    const token = mac.generate('api-key');
    const flipped = `${token.slice(0, 10)}${token[10] === 'a' ? 'b' : 'a'}${token.slice(11)}`;
    const elsewhere = new CredentialMac({ secretsEncryptionKey: randomBytes(32), previousSecretsEncryptionKeys: [] }).generate('api-key');
    for (const forged of [
      flipped,
      token.slice(0, -1),
      `${token}A`,
      elsewhere,
      '',
      'x'.repeat(65),
      `${token.slice(0, 43)}${'A'.repeat(22)}`,
    ])
      expect(mac.verify('api-key', forged)).toBe(false);
  });

  it('refuses every other spelling of a valid MAC: its last character carries 4 bits that decoding would ignore', () => {
    const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const token = mac.generate('api-key');
    const last = ALPHABET.indexOf(token[64]);
    // The 15 characters that decode to the same 16 bytes (same top 2 bits) as the MAC's own last one.
    const sameBytes = [...ALPHABET].filter((char, index) => index >> 4 === last >> 4 && index !== last);
    expect(sameBytes).toHaveLength(15);
    for (const char of sameBytes) {
      const respelled = `${token.slice(0, 64)}${char}`;
      expect(Buffer.from(respelled.slice(43), 'base64url')).toEqual(Buffer.from(token.slice(43), 'base64url'));
      expect(mac.verify('api-key', respelled)).toBe(false);
    }
  });

  it('still verifies credentials issued under a key now listed as previous', () => {
    const before = new CredentialMac({ secretsEncryptionKey: retired, previousSecretsEncryptionKeys: [] }).generate('api-key');
    const after = new CredentialMac({ secretsEncryptionKey: current, previousSecretsEncryptionKeys: [retired] });
    expect(after.verify('api-key', before)).toBe(true);
    expect(mac.verify('api-key', before)).toBe(false);
  });

  it('tells issued, old-format and forged API keys apart without a database', () => {
    expect(apiKeyShape(mac, `pck_${mac.generate('api-key')}`)).toBe('issued');
    expect(apiKeyShape(mac, `pck_${randomBytes(32).toString('base64url')}`)).toBe('legacy');
    expect(apiKeyShape(mac, `pck_${randomBytes(48).toString('base64url')}`)).toBe('forged');
    expect(apiKeyShape(mac, 'Bearer nonsense')).toBe('forged');
  });
});
