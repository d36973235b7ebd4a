import { startService } from '@callbacks/config';
import { CallbackRepository, createDataSource } from '@callbacks/persistence';
import { SecretCipher } from '@callbacks/signing';
import { reencryptSecrets } from './callbacks/reencrypt-secrets';

/** `npm run secrets:reencrypt`: re-encrypts every signing secret and custom header value with SECRETS_ENCRYPTION_KEY. */
void startService('secrets:reencrypt', async ({ config }) => {
  const dataSource = createDataSource(config.databaseUrl, 1);
  await dataSource.initialize();
  try {
    const { rows, reencrypted } = await reencryptSecrets(
      new CallbackRepository(dataSource),
      new SecretCipher(config.secretsEncryptionKey, config.previousSecretsEncryptionKeys),
    );
    console.log(`secrets:reencrypt: ${reencrypted} of ${rows} callbacks re-encrypted with the current key`);
  } finally {
    await dataSource.destroy();
  }
});
