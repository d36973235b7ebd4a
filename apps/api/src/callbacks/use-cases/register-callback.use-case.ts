import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import type { CallbackCreatedDto, CallbackDto, PutCallbackDto } from '@callbacks/contracts';
import { CallbackRepository } from '@callbacks/persistence';
import { generateSigningSecret } from '@callbacks/signing';
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
 */
@Injectable()
export class RegisterCallback {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly callbacks: CallbackRepository,
    private readonly partners: PartnerLookup,
    private readonly vault: SecretVault,
    private readonly health: CallbackHealthStore,
  ) {}

  async execute(partnerId: string, notificationTypeId: number, body: PutCallbackDto): Promise<RegisterCallbackResult> {
    const urlProblem = checkCallbackUrl(body.callbackUrl, { allowInsecure: this.config.allowInsecureCallbacks });
    if (urlProblem) throw DomainError.validation([{ field: 'callbackUrl', message: urlProblem }]);
    await this.partners.require(partnerId);

    const signingSecret = generateSigningSecret();
    const headers = body.headers ?? {};
    const stored = this.vault.sealHeaders(headers);
    const row = await this.callbacks.register({
      id: randomUUID(),
      partnerId,
      notificationTypeId,
      callbackUrl: body.callbackUrl,
      headers: stored.headers,
      headersEncrypted: stored.headersEncrypted,
      enabled: body.enabled ?? true,
      signingSecretEncrypted: this.vault.seal(signingSecret),
    });
    await this.health.reset(partnerId, notificationTypeId);
    const callback = toCallbackDto(await this.callbacks.findById(row.id), 'ok', headers);
    return row.created ? { created: true, callback: { ...callback, signingSecret } } : { created: false, callback };
  }
}
