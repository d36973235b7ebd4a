import { randomBytes } from 'node:crypto';
import { SecretCipher } from '@callbacks/signing';
import { reencryptSecrets } from '../src/callbacks/reencrypt-secrets';
import { createApiApp } from '../src/api-app';
import { startApiTestApp } from './api-test-app';
import request from 'supertest';

describe('rotating SECRETS_ENCRYPTION_KEY', () => {
  it('reads old rows with the previous key, re-encrypts them, and then needs only the new key', async () => {
    const api = await startApiTestApp();
    try {
      const partner = await api.createPartner();
      const created = await api.http.put(`/${partner.partnerUniqueId}/callbacks/5`).set(partner.auth).send({ callbackUrl: 'https://partner.example.com/h' }).expect(201);
      await api.http.post(`/${partner.partnerUniqueId}/callbacks/5/secret/rotate`).set(partner.auth).expect(200);
      const oldKey = api.environment.config.secretsEncryptionKey;
      const newKey = randomBytes(32);

      const rotating = await createApiApp({ ...api.environment.config, secretsEncryptionKey: newKey, previousSecretsEncryptionKeys: [oldKey] });
      await rotating.init();
      try {
        const current = await request(rotating.getHttpServer()).get(`/${partner.partnerUniqueId}/callbacks/5/secret`).set(partner.auth).expect(200);
        expect(current.body.signingSecret).not.toBe(created.body.signingSecret);

        const cipher = new SecretCipher(newKey, [oldKey]);
        expect(await reencryptSecrets(api.dataSource, cipher)).toEqual({ rows: 1, reencrypted: 1 });
        expect(await reencryptSecrets(api.dataSource, cipher)).toEqual({ rows: 1, reencrypted: 0 });
        const [row] = (await api.dataSource.query('SELECT * FROM callbacks')) as Array<{ signing_secret_encrypted: string; previous_signing_secret_encrypted: string }>;
        const newOnly = new SecretCipher(newKey);
        expect(newOnly.decrypt(row.signing_secret_encrypted)).toBe(current.body.signingSecret);
        expect(newOnly.decrypt(row.previous_signing_secret_encrypted)).toBe(created.body.signingSecret);
        expect(() => new SecretCipher(oldKey).decrypt(row.signing_secret_encrypted)).toThrow();
      } finally {
        await rotating.close();
      }
    } finally {
      await api.close();
    }
  });
});
