import { randomBytes } from 'node:crypto';
import { CallbackRepository } from '@callbacks/persistence';
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
      const headers = { 'X-Partner-Token': 'tok_live_6f1d0c' };
      const created = await api.http
        .put(`/${partner.partnerUniqueId}/callbacks/5`)
        .set(partner.auth)
        .send({ callbackUrl: 'https://partner.example.com/h', headers })
        .expect(201);
      await api.http.post(`/${partner.partnerUniqueId}/callbacks/5/secret/rotate`).set(partner.auth).expect(200);
      // A callback whose headers were stored before they were encrypted: the re-encryption encrypts them.
      await api.http
        .put(`/${partner.partnerUniqueId}/callbacks/6`)
        .set(partner.auth)
        .send({ callbackUrl: 'https://partner.example.com/h' })
        .expect(201);
      await api.dataSource.query(`UPDATE callbacks SET headers = '{"X-Legacy": "plain-token"}' WHERE notification_type_id = 6`);
      const oldKey = api.environment.config.secretsEncryptionKey;
      const newKey = randomBytes(32);

      const rotating = await createApiApp({
        ...api.environment.config,
        secretsEncryptionKey: newKey,
        previousSecretsEncryptionKeys: [oldKey],
      });
      await rotating.init();
      try {
        const current = await request(rotating.getHttpServer())
          .get(`/${partner.partnerUniqueId}/callbacks/5/secret`)
          .set(partner.auth)
          .expect(200);
        expect(current.body.signingSecret).not.toBe(created.body.signingSecret);

        const rotatingHttp = request(rotating.getHttpServer());
        expect((await rotatingHttp.get(`/${partner.partnerUniqueId}/callbacks/5`).set(partner.auth).expect(200)).body.headers).toEqual(
          headers,
        );

        const cipher = new SecretCipher(newKey, [oldKey]);
        const callbacks = new CallbackRepository(api.dataSource);
        expect(await reencryptSecrets(callbacks, cipher)).toEqual({ rows: 2, reencrypted: 2 });
        expect(await reencryptSecrets(callbacks, cipher)).toEqual({ rows: 2, reencrypted: 0 });
        const [row, legacy] = (await api.dataSource.query('SELECT * FROM callbacks ORDER BY notification_type_id')) as Array<{
          signing_secret_encrypted: string;
          previous_signing_secret_encrypted: string;
          headers: Record<string, string>;
          headers_encrypted: string;
        }>;
        const newOnly = new SecretCipher(newKey);
        expect(newOnly.decrypt(row.signing_secret_encrypted)).toBe(current.body.signingSecret);
        expect(newOnly.decrypt(row.previous_signing_secret_encrypted)).toBe(created.body.signingSecret);
        expect(() => new SecretCipher(oldKey).decrypt(row.signing_secret_encrypted)).toThrow();
        expect(JSON.parse(newOnly.decrypt(row.headers_encrypted))).toEqual(headers);
        expect(() => new SecretCipher(oldKey).decrypt(row.headers_encrypted)).toThrow();
        expect(legacy.headers).toEqual({});
        expect(JSON.stringify(legacy)).not.toContain('plain-token');
        expect(JSON.parse(newOnly.decrypt(legacy.headers_encrypted))).toEqual({ 'X-Legacy': 'plain-token' });
        expect((await rotatingHttp.get(`/${partner.partnerUniqueId}/callbacks/6`).set(partner.auth).expect(200)).body.headers).toEqual({
          'X-Legacy': 'plain-token',
        });
      } finally {
        await rotating.close();
      }
    } finally {
      await api.close();
    }
  });
});
