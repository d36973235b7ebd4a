import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { openCallbackHeaders, sealCallbackHeaders, SecretCipher, type StoredCallbackHeaders } from '@callbacks/signing';

/** Encrypts signing secrets and custom header values before they reach PostgreSQL and decrypts them on the way out. */
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

  sealHeaders(headers: Record<string, string>): { headers: Record<string, string>; headersEncrypted: string | null } {
    return sealCallbackHeaders(this.cipher, headers);
  }

  openHeaders(stored: StoredCallbackHeaders): Record<string, string> {
    return openCallbackHeaders(this.cipher, stored);
  }
}
