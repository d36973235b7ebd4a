import { randomBytes } from 'node:crypto';
import { callbackHeadersNeedReencryption, openCallbackHeaders, sealCallbackHeaders } from './callback-headers-cipher';
import { SecretCipher } from './secret-cipher';

describe('callback headers at rest', () => {
  const cipher = new SecretCipher(randomBytes(32));
  const headers = { Authorization: 'Bearer tok_live_123', 'X-Obs-Text': 'caf\u00e9' };

  it('seals the values out of sight and opens them again', () => {
    const sealed = sealCallbackHeaders(cipher, headers);
    expect(sealed.headers).toEqual({});
    expect(sealed.headersEncrypted).toMatch(/^v1\./);
    expect(JSON.stringify(sealed)).not.toContain('tok_live_123');
    expect(openCallbackHeaders(cipher, sealed)).toEqual(headers);
    expect(callbackHeadersNeedReencryption(cipher, sealed)).toBe(false);
  });

  it('stores no headers as no ciphertext', () => {
    expect(sealCallbackHeaders(cipher, {})).toEqual({ headers: {}, headersEncrypted: null });
    expect(openCallbackHeaders(cipher, { headers: {}, headersEncrypted: null })).toEqual({});
    expect(openCallbackHeaders(cipher, { headers: null, headersEncrypted: null })).toEqual({});
  });

  it('reads rows written before encryption as plaintext, and marks them for secrets:reencrypt', () => {
    const legacy = { headers, headersEncrypted: null };
    expect(openCallbackHeaders(cipher, legacy)).toEqual(headers);
    expect(callbackHeadersNeedReencryption(cipher, legacy)).toBe(true);
    expect(callbackHeadersNeedReencryption(cipher, { headers: {}, headersEncrypted: null })).toBe(false);
  });

  it('needs the key: a row sealed under another key is marked, and fails to open without it', () => {
    const oldKey = randomBytes(32);
    const sealed = sealCallbackHeaders(new SecretCipher(oldKey), headers);
    expect(callbackHeadersNeedReencryption(new SecretCipher(randomBytes(32), [oldKey]), sealed)).toBe(true);
    expect(() => openCallbackHeaders(cipher, sealed)).toThrow(/cannot be decrypted/);
  });
});
