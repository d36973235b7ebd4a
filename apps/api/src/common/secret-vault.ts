import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { SecretCipher } from '@callbacks/signing';

/** Encrypts signing secrets before they reach PostgreSQL and decrypts them on the way out. */
@Injectable()
export class SecretVault {
  private readonly cipher: SecretCipher;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.cipher = new SecretCipher(config.secretsEncryptionKey, config.previousSecretsEncryptionKeys);
  }

  seal(secret: string): string {
    return this.cipher.encrypt(secret);
  }

  open(stored: string): string {
    return this.cipher.decrypt(stored);
  }
}
