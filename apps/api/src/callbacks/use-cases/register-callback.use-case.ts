import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import type { CallbackAuthConfig, CallbackCreatedDto, CallbackDto, FieldError, PutCallbackDto } from '@callbacks/contracts';
import { CallbackEntity } from '@callbacks/persistence';
import { generateEd25519KeyPair, generateSigningSecret } from '@callbacks/signing';
import { checkCallbackUrl } from '@callbacks/url-policy';
import { DomainError } from '../../common/domain-error';
import { SecretVault } from '../../common/secret-vault';
import { PartnerLookup } from '../../partners/partner-lookup';
import { CallbackHealthStore } from '../callback-health.store';
import { toCallbackDto } from '../callback.mapper';

export type RegisterCallbackResult = { created: true; callback: CallbackCreatedDto } | { created: false; callback: CallbackDto };

/**
 * PUT semantics: the body replaces the callback's URL, headers (default none) and enabled flag
 * (default true). The signing secret is made on creation and kept on every update. Registering
 * closes the callback's circuit: a fixed endpoint gets its deliveries at once, and a callback created
 * again after a delete does not inherit the old one's failures (an attempt still in flight at the
 * delete may have counted one after it).
 * A PUT that enables the callback re-enables one disabled for failing and starts its failure
 * streak afresh; `enabled: false` disables it for "partner" (keeping the time it was first
 * disabled so). circuit_opened_at is kept: the first success afterwards tells the operator it recovered.
 * Transport (issue 21): `signature` (default hmac), `tls` and `auth` are replaced like the rest. The
 * ed25519 key pair is made the first time a PUT asks for ed25519 or both, then kept (as the signing
 * secret is). `auth.clientSecret` may be omitted to keep the stored one, but only while tokenUrl and
 * clientId stay the same: a changed token URL never receives a secret registered for another one.
 */
@Injectable()
export class RegisterCallback {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly partners: PartnerLookup,
    private readonly vault: SecretVault,
    private readonly health: CallbackHealthStore,
  ) {}

  async execute(partnerId: string, notificationTypeId: number, body: PutCallbackDto): Promise<RegisterCallbackResult> {
    const headers = body.headers ?? {};
    const problems = this.transportProblems(body, headers);
    const urlProblem = checkCallbackUrl(body.callbackUrl, { allowInsecure: this.config.allowInsecureCallbacks });
    if (urlProblem) problems.unshift({ field: 'callbackUrl', message: urlProblem });
    if (problems.length > 0) throw DomainError.validation(problems);
    await this.partners.require(partnerId);

    const signingSecret = generateSigningSecret();
    const signature = body.signature ?? 'hmac';
    const keyPair = signature === 'hmac' ? null : generateEd25519KeyPair();
    const auth: CallbackAuthConfig | null = body.auth
      ? { type: body.auth.type, tokenUrl: body.auth.tokenUrl, clientId: body.auth.clientId, scope: body.auth.scope ?? null }
      : null;
    const stored = this.vault.sealHeaders(headers);
    // One statement, so two concurrent first PUTs cannot both create (or both fail).
    const [row] = (await this.dataSource
      .query(
        `INSERT INTO callbacks (id, partner_id, notification_type_id, callback_url, headers, headers_encrypted, enabled, signing_secret_encrypted, disabled_reason, disabled_at,
                                signature_scheme, ed25519_secret_key_encrypted, ed25519_public_key, tls_ca_certificate, auth, auth_client_secret_encrypted)
       VALUES ($1, $2, $3, $4, $5, $6, $7::boolean, $8, CASE WHEN $7::boolean THEN NULL ELSE 'partner' END, CASE WHEN $7::boolean THEN NULL ELSE now() END,
               $9, $10, $11, $12, $13::jsonb,
               -- No new client secret: the stored one, if it was registered for this very token URL and client id.
               COALESCE($14, (SELECT kept.auth_client_secret_encrypted FROM callbacks kept
                               WHERE kept.partner_id = $2 AND kept.notification_type_id = $3
                                 AND kept.auth->>'tokenUrl' = $13::jsonb->>'tokenUrl' AND kept.auth->>'clientId' = $13::jsonb->>'clientId')))
       ON CONFLICT (partner_id, notification_type_id) DO UPDATE
         SET callback_url = EXCLUDED.callback_url, headers = EXCLUDED.headers, headers_encrypted = EXCLUDED.headers_encrypted,
             enabled = EXCLUDED.enabled, updated_at = now(), disabled_reason = EXCLUDED.disabled_reason,
             disabled_at = CASE WHEN callbacks.disabled_reason = 'partner' AND NOT EXCLUDED.enabled THEN callbacks.disabled_at ELSE EXCLUDED.disabled_at END,
             failing_since = CASE WHEN EXCLUDED.enabled THEN NULL ELSE callbacks.failing_since END,
             signature_scheme = EXCLUDED.signature_scheme,
             ed25519_secret_key_encrypted = COALESCE(callbacks.ed25519_secret_key_encrypted, EXCLUDED.ed25519_secret_key_encrypted),
             ed25519_public_key = COALESCE(callbacks.ed25519_public_key, EXCLUDED.ed25519_public_key),
             tls_ca_certificate = EXCLUDED.tls_ca_certificate,
             auth = EXCLUDED.auth,
             auth_client_secret_encrypted = CASE WHEN EXCLUDED.auth IS NULL THEN NULL ELSE EXCLUDED.auth_client_secret_encrypted END
       RETURNING id, (xmax = 0) AS created`,
        [
          randomUUID(),
          partnerId,
          notificationTypeId,
          body.callbackUrl,
          JSON.stringify(stored.headers),
          stored.headersEncrypted,
          body.enabled ?? true,
          this.vault.seal(signingSecret),
          signature,
          keyPair ? this.vault.seal(keyPair.secretKey) : null,
          keyPair?.publicKey ?? null,
          body.tls?.caCertificate ?? null,
          auth ? JSON.stringify(auth) : null,
          body.auth?.clientSecret !== undefined ? this.vault.seal(body.auth.clientSecret) : null,
        ],
      )
      .catch((error: unknown) => {
        // Checked by the table (ck_callbacks_auth_client_secret): auth without a client secret given or kept.
        if ((error as { constraint?: string }).constraint === 'ck_callbacks_auth_client_secret')
          throw DomainError.validation([
            { field: 'auth.clientSecret', message: 'is required when auth is first set, or when its tokenUrl or clientId changes' },
          ]);
        throw error;
      })) as Array<{ id: string; created: boolean }>;
    await this.health.reset(partnerId, notificationTypeId);
    const callback = toCallbackDto(await this.dataSource.manager.findOneByOrFail(CallbackEntity, { id: row.id }), 'ok', headers);
    return row.created ? { created: true, callback: { ...callback, signingSecret } } : { created: false, callback };
  }

  /** The transport fields' rules that need more than the DTO: the token URL's address, and no custom Authorization beside auth. */
  private transportProblems(body: PutCallbackDto, headers: Record<string, string>): FieldError[] {
    const problems: FieldError[] = [];
    if (body.auth) {
      const tokenUrlProblem = checkCallbackUrl(body.auth.tokenUrl, { allowInsecure: this.config.allowInsecureCallbacks });
      if (tokenUrlProblem) problems.push({ field: 'auth.tokenUrl', message: tokenUrlProblem });
      const authorization = Object.keys(headers).find((name) => name.toLowerCase() === 'authorization');
      if (authorization)
        problems.push({ field: `headers.${authorization}`, message: 'cannot be set with auth: deliveries carry the OAuth2 token in it' });
    }
    return problems;
  }
}
