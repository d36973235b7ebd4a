import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { closeRedisClient, createRedisClient, type RedisClient } from '@callbacks/queue';
import { SecretCipher } from '@callbacks/signing';
import { ClientCertificateFiles } from './client-certificate';
import { OAuthTokenCache } from './oauth-token-cache';

/**
 * What the worker's sender shares with nothing else: the client certificate files (WEBHOOK_CLIENT_CERT/KEY,
 * checked at start and watched for a rotation) and the OAuth2 token cache on its own Redis connection.
 * `onRotation` is set by the sender, so that a new pair closes the connections made with the old one.
 */
@Injectable()
export class EgressResources implements OnApplicationShutdown {
  readonly clientCertificate: ClientCertificateFiles | null;
  readonly tokens: OAuthTokenCache;
  onRotation: () => void = () => undefined;
  private readonly redis: RedisClient;

  constructor(@Inject(APP_CONFIG) config: AppConfig, logger: PinoLogger) {
    logger.setContext('EgressTransport');
    const paths = config.webhookClientCertificate;
    this.clientCertificate = paths
      ? new ClientCertificateFiles(paths, {
          rotated: () => {
            logger.info({ certPath: paths.certPath }, 'client certificate rotated: new connections present the new one');
            this.onRotation();
          },
          rejected: (problem) =>
            logger.warn({ problem }, 'client certificate files changed but do not make a pair yet; the previous pair stays'),
        })
      : null;
    for (const warning of this.clientCertificate?.warnings ?? []) logger.warn(warning);
    this.redis = createRedisClient(config, 'worker', { enableAutoPipelining: true });
    this.redis.on('error', () => undefined); // the queue's own connection reports Redis trouble
    this.tokens = new OAuthTokenCache(this.redis, new SecretCipher(config.secretsEncryptionKey, config.previousSecretsEncryptionKeys), {
      requestTimeoutMs: config.deliveryTimeoutMs,
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.clientCertificate?.close();
    await closeRedisClient(this.redis);
  }
}
