import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import type { CallbackCreatedDto, CallbackDto, PutCallbackDto } from '@callbacks/contracts';
import { CallbackEntity } from '@callbacks/persistence';
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
    @InjectDataSource() private readonly dataSource: DataSource,
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
    // One statement, so two concurrent first PUTs cannot both create (or both fail).
    const [row] = (await this.dataSource.query(
      `INSERT INTO callbacks (id, partner_id, notification_type_id, callback_url, headers, headers_encrypted, enabled, signing_secret_encrypted, disabled_reason, disabled_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::boolean, $8, CASE WHEN $7::boolean THEN NULL ELSE 'partner' END, CASE WHEN $7::boolean THEN NULL ELSE now() END)
       ON CONFLICT (partner_id, notification_type_id) DO UPDATE
         SET callback_url = EXCLUDED.callback_url, headers = EXCLUDED.headers, headers_encrypted = EXCLUDED.headers_encrypted,
             enabled = EXCLUDED.enabled, updated_at = now(), disabled_reason = EXCLUDED.disabled_reason,
             disabled_at = CASE WHEN callbacks.disabled_reason = 'partner' AND NOT EXCLUDED.enabled THEN callbacks.disabled_at ELSE EXCLUDED.disabled_at END,
             failing_since = CASE WHEN EXCLUDED.enabled THEN NULL ELSE callbacks.failing_since END
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
      ],
    )) as Array<{ id: string; created: boolean }>;
    await this.health.reset(partnerId, notificationTypeId);
    const callback = toCallbackDto(await this.dataSource.manager.findOneByOrFail(CallbackEntity, { id: row.id }), 'ok', headers);
    return row.created ? { created: true, callback: { ...callback, signingSecret } } : { created: false, callback };
  }
}
