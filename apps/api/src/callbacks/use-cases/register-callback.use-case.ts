import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import type { CallbackAuthConfig, CallbackCreatedDto, CallbackDto, FieldError, PutCallbackDto } from '@callbacks/contracts';
import { AuthClientSecretMissing, CallbackRepository, type CallbackRegistration } from '@callbacks/persistence';
import { generateEd25519KeyPair, generateSigningSecret } from '@callbacks/signing';
import { checkCallbackUrl } from '@callbacks/url-policy';
import { type AuditedChange, type AuditOrigin, AuditTrail } from '../../audit/audit-trail';
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
 * Audited in the same transaction, one entry per PUT: callback_created; callback_enabled or
 * callback_disabled when the flag changes; callback_updated otherwise; each but the first with the
 * previous and the new URL.
 */
@Injectable()
export class RegisterCallback {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditTrail,
    private readonly callbacks: CallbackRepository,
    private readonly partners: PartnerLookup,
    private readonly vault: SecretVault,
    private readonly health: CallbackHealthStore,
  ) {}

  async execute(partnerId: string, notificationTypeId: number, body: PutCallbackDto, origin: AuditOrigin): Promise<RegisterCallbackResult> {
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
    const registration: CallbackRegistration = {
      id: randomUUID(),
      partnerId,
      notificationTypeId,
      callbackUrl: body.callbackUrl,
      headers: stored.headers,
      headersEncrypted: stored.headersEncrypted,
      enabled: body.enabled ?? true,
      signingSecretEncrypted: this.vault.seal(signingSecret),
      signatureScheme: signature,
      ed25519SecretKeyEncrypted: keyPair ? this.vault.seal(keyPair.secretKey) : null,
      ed25519PublicKey: keyPair?.publicKey ?? null,
      tlsCaCertificate: body.tls?.caCertificate ?? null,
      auth,
      authClientSecretEncrypted: body.auth?.clientSecret !== undefined ? this.vault.seal(body.auth.clientSecret) : null,
    };
    const row = await this.dataSource
      .transaction(async (manager) => {
        const previous = await this.callbacks.lockDestination({ partnerId, notificationTypeId }, manager);
        const registered = await this.callbacks.register(registration, manager);
        await this.audit.record(origin, auditedChange(registration, registered.created, previous), manager);
        return registered;
      })
      .catch((error: unknown) => {
        if (error instanceof AuthClientSecretMissing)
          throw DomainError.validation([
            { field: 'auth.clientSecret', message: 'is required when auth is first set, or when its tokenUrl or clientId changes' },
          ]);
        throw error;
      });
    await this.health.reset(partnerId, notificationTypeId);
    const callback = toCallbackDto(await this.callbacks.findById(row.id), 'ok', headers);
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

/**
 * The one audit entry of a PUT, from the callback as registered and as it was (null: none seen; a
 * concurrent first PUT may have created it after the lock was asked for, and this one updated it).
 */
function auditedChange(
  registration: CallbackRegistration,
  created: boolean,
  previous: { callbackUrl: string; enabled: boolean } | null,
): AuditedChange {
  const base = { partnerId: registration.partnerId, target: `notification_type:${registration.notificationTypeId}` };
  if (created) {
    return { ...base, action: 'callback_created', details: { callbackUrl: registration.callbackUrl, enabled: registration.enabled } };
  }
  const details = { previousCallbackUrl: previous?.callbackUrl ?? null, callbackUrl: registration.callbackUrl };
  if (previous !== null && previous.enabled !== registration.enabled)
    return { ...base, action: registration.enabled ? 'callback_enabled' : 'callback_disabled', details };
  return { ...base, action: 'callback_updated', details };
}
