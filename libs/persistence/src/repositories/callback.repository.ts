import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { CallbackEntity } from '../entities/callback.entity';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import type { CallbackAuthConfig, CallbackRef, SignatureScheme, StoredDeliveryPolicy } from '@callbacks/contracts';
import { createDatabasePool } from '../database-pool';
import type { SqlExecutor } from '../sql-executor';

/** A worker's folded attempt outcomes of one callback (see OutcomeWindows in the worker). */
export interface CallbackOutcomes {
  lastSuccessAt: Date | null;
  failingSince: Date | null;
}

/** The callback as it is after an outcome write. */
export interface CallbackOutcomeState {
  enabled: boolean;
  callbackUrl: string;
  failingSince: Date | null;
  /** circuit_opened_at before the write, and after it (a success after it clears it). */
  circuitOpenedBefore: Date | null;
  circuitOpenedAfter: Date | null;
}

/*
 * One statement folds a worker's outcome summary into the callback row, and writes only when
 * something changes: last_success_at moves forward; failing_since is the earliest known failure
 * after the last success (null if none); a success after circuit_opened_at clears it.
 */
const APPLY_OUTCOMES = `
  WITH cur AS (
    SELECT id, enabled, callback_url, last_success_at, failing_since, circuit_opened_at
      FROM callbacks WHERE partner_id = $1 AND notification_type_id = $2 FOR UPDATE
  ), nxt AS (
    SELECT cur.*,
           GREATEST(last_success_at, $3::timestamptz) AS new_success,
           (SELECT min(t) FROM unnest(ARRAY[failing_since, $4::timestamptz]) AS t
             WHERE t > COALESCE(GREATEST(last_success_at, $3::timestamptz), '-infinity')) AS new_failing,
           CASE WHEN circuit_opened_at <= $3::timestamptz THEN NULL ELSE circuit_opened_at END AS new_opened
      FROM cur
  ), upd AS (
    UPDATE callbacks c SET last_success_at = n.new_success, failing_since = n.new_failing, circuit_opened_at = n.new_opened
      FROM nxt n
     WHERE c.id = n.id
       AND (c.last_success_at IS DISTINCT FROM n.new_success OR c.failing_since IS DISTINCT FROM n.new_failing OR c.circuit_opened_at IS DISTINCT FROM n.new_opened)
  )
  SELECT enabled, callback_url, new_failing AS failing_since, circuit_opened_at AS was_opened, new_opened AS now_opened FROM nxt`;

/**
 * The worker's outcome bookkeeping on callbacks, on its own small pool with synchronous_commit=off
 * (1.4 ms a write instead of 5.7 ms with a WAL flush, measured): a write lost in a PostgreSQL crash
 * is redone by the next outcome. Its user closes it once its last write is done (close()).
 */
@Injectable()
export class CallbackOutcomeRepository {
  private readonly pool: Pool;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.pool = createDatabasePool(config.databaseUrl, {
      applicationName: 'partner-callbacks-lifecycle',
      max: 2,
      synchronousCommit: false,
      statementTimeoutMs: config.databaseStatementTimeoutMs,
    });
  }

  /** Folds outcomes into the callback; null when the callback is gone. */
  async apply(callback: CallbackRef, outcomes: CallbackOutcomes): Promise<CallbackOutcomeState | null> {
    const { rows } = await this.pool.query<{
      enabled: boolean;
      callback_url: string;
      failing_since: Date | null;
      was_opened: Date | null;
      now_opened: Date | null;
    }>(APPLY_OUTCOMES, [callback.partnerId, callback.notificationTypeId, outcomes.lastSuccessAt, outcomes.failingSince]);
    const [row] = rows;
    if (!row) return null;
    return {
      enabled: row.enabled,
      callbackUrl: row.callback_url,
      failingSince: row.failing_since,
      circuitOpenedBefore: row.was_opened,
      circuitOpenedAfter: row.now_opened,
    };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** A PUT of a callback, as stored (secrets and custom headers sealed). */
export interface CallbackRegistration {
  id: string;
  partnerId: string;
  notificationTypeId: number;
  callbackUrl: string;
  headers: Record<string, string>;
  headersEncrypted: string | null;
  enabled: boolean;
  /** Used when the PUT creates the callback; an update keeps the secret it has. */
  signingSecretEncrypted: string;
  signatureScheme: SignatureScheme;
  /** A new ed25519 key pair (null for hmac), used only when the callback has none yet: an update keeps its own. */
  ed25519SecretKeyEncrypted: string | null;
  ed25519PublicKey: string | null;
  tlsCaCertificate: string | null;
  auth: CallbackAuthConfig | null;
  /** A new sealed client secret, or null to keep the stored one (only for the same token URL and client id). */
  authClientSecretEncrypted: string | null;
  delivery: StoredDeliveryPolicy;
}

/** A rotation's new keys, sealed. */
export interface SigningKeysRotation {
  signingSecretEncrypted: string;
  /** Used only by a callback that signs with ed25519 (or both). */
  ed25519SecretKeyEncrypted: string;
  ed25519PublicKey: string;
  previousExpiresAt: Date;
}

/** A PUT with auth and no client secret, when none is stored for that token URL and client id (ck_callbacks_auth_client_secret). */
/** A callback that was just disabled automatically: its URL and the start of its failure streak. */
export interface DisabledCallback {
  callbackUrl: string;
  failingSince: Date;
}

export class AuthClientSecretMissing extends Error {
  constructor() {
    super('auth needs a client secret: none given, and none stored for this token URL and client id');
    this.name = 'AuthClientSecretMissing';
  }
}

/** A callback's sealed secrets and headers, as read for re-encryption under a new key. */
export interface SealedCallbackSecrets {
  id: string;
  signingSecretEncrypted: string;
  previousSigningSecretEncrypted: string | null;
  headers: Record<string, string>;
  headersEncrypted: string | null;
  ed25519SecretKeyEncrypted: string | null;
  previousEd25519SecretKeyEncrypted: string | null;
  authClientSecretEncrypted: string | null;
}

/** The callbacks table. Each method runs on `db` when given (a caller's transaction), else on its own. */
@Injectable()
export class CallbackRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  find(callback: CallbackRef): Promise<CallbackEntity | null> {
    return this.dataSource
      .getRepository(CallbackEntity)
      .findOne({ where: { partnerId: callback.partnerId, notificationTypeId: callback.notificationTypeId } });
  }

  findById(id: string): Promise<CallbackEntity> {
    return this.dataSource.getRepository(CallbackEntity).findOneByOrFail({ id });
  }

  /** A page of the partner's callbacks in type order, and how many it has. */
  listOfPartner(partnerId: string, offset: number, limit: number): Promise<[CallbackEntity[], number]> {
    return this.dataSource
      .getRepository(CallbackEntity)
      .findAndCount({ where: { partnerId }, order: { notificationTypeId: 'ASC' }, skip: offset, take: limit });
  }

  /** The types of the partner's enabled callbacks, in order. */
  async enabledTypes(partnerId: string): Promise<number[]> {
    const rows = (await this.dataSource.query(
      `SELECT notification_type_id FROM callbacks WHERE partner_id = $1 AND enabled ORDER BY notification_type_id`,
      [partnerId],
    )) as Array<{ notification_type_id: number }>;
    return rows.map((row) => row.notification_type_id);
  }

  /**
   * PUT semantics in one statement, so two concurrent first PUTs cannot both create (or both fail):
   * creates the callback, or replaces its URL, headers and enabled flag keeping its secret. Enabling
   * clears the disabled state and the failure streak; `enabled: false` disables it for "partner",
   * keeping the time it was first disabled so. Returns the row's id and whether it was created.
   */
  async register(registration: CallbackRegistration, db: SqlExecutor = this.dataSource): Promise<{ id: string; created: boolean }> {
    const [row] = (await db
      .query(
        `INSERT INTO callbacks (id, partner_id, notification_type_id, callback_url, headers, headers_encrypted, enabled, signing_secret_encrypted, disabled_reason, disabled_at,
                                signature_scheme, ed25519_secret_key_encrypted, ed25519_public_key, tls_ca_certificate, auth, auth_client_secret_encrypted,
                                delivery_ordering, delivery_max_in_flight, delivery_rate_per_second, delivery_timeout_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7::boolean, $8, CASE WHEN $7::boolean THEN NULL ELSE 'partner' END, CASE WHEN $7::boolean THEN NULL ELSE now() END,
               $9, $10, $11, $12, $13::jsonb,
               -- No new client secret: the stored one, if it was registered for this very token URL and client id.
               COALESCE($14, (SELECT kept.auth_client_secret_encrypted FROM callbacks kept
                               WHERE kept.partner_id = $2 AND kept.notification_type_id = $3
                                 AND kept.auth->>'tokenUrl' = $13::jsonb->>'tokenUrl' AND kept.auth->>'clientId' = $13::jsonb->>'clientId')),
               $15, $16, $17, $18)
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
             auth_client_secret_encrypted = CASE WHEN EXCLUDED.auth IS NULL THEN NULL ELSE EXCLUDED.auth_client_secret_encrypted END,
             delivery_ordering = EXCLUDED.delivery_ordering, delivery_max_in_flight = EXCLUDED.delivery_max_in_flight,
             delivery_rate_per_second = EXCLUDED.delivery_rate_per_second, delivery_timeout_ms = EXCLUDED.delivery_timeout_ms
       RETURNING id, (xmax = 0) AS created`,
        [
          registration.id,
          registration.partnerId,
          registration.notificationTypeId,
          registration.callbackUrl,
          JSON.stringify(registration.headers),
          registration.headersEncrypted,
          registration.enabled,
          registration.signingSecretEncrypted,
          registration.signatureScheme,
          registration.ed25519SecretKeyEncrypted,
          registration.ed25519PublicKey,
          registration.tlsCaCertificate,
          registration.auth ? JSON.stringify(registration.auth) : null,
          registration.authClientSecretEncrypted,
          registration.delivery.ordering,
          registration.delivery.maxInFlight,
          registration.delivery.ratePerSecond,
          registration.delivery.timeoutMs,
        ],
      )
      .catch((error: unknown) => {
        if ((error as { constraint?: string }).constraint === 'ck_callbacks_auth_client_secret') throw new AuthClientSecretMissing();
        throw error;
      })) as Array<{ id: string; created: boolean }>;
    return row;
  }

  /**
   * A new signing secret; the current one becomes the previous one until `previousExpiresAt`. The
   * move happens inside the UPDATE: two rotations at once queue on the row, and the second keeps
   * the first's secret as its previous one. False when the callback is gone.
   */
  /**
   * Moves the current secret to "previous" and stores the new one, in one UPDATE (concurrent
   * rotations queue on the row); a callback that signs with ed25519 rotates its key pair the same way.
   * Returns the callback's signature scheme, or null when it is gone.
   */
  async rotateSecret(id: string, rotation: SigningKeysRotation, db: SqlExecutor = this.dataSource): Promise<SignatureScheme | null> {
    const [rows] = (await db.query(
      `UPDATE callbacks
          SET previous_signing_secret_encrypted = signing_secret_encrypted, signing_secret_encrypted = $2,
              previous_secret_expires_at = $3, updated_at = now(),
              previous_ed25519_secret_key_encrypted = CASE WHEN signature_scheme = 'hmac' THEN previous_ed25519_secret_key_encrypted ELSE ed25519_secret_key_encrypted END,
              previous_ed25519_public_key = CASE WHEN signature_scheme = 'hmac' THEN previous_ed25519_public_key ELSE ed25519_public_key END,
              previous_ed25519_expires_at = CASE WHEN signature_scheme = 'hmac' THEN previous_ed25519_expires_at ELSE $3 END,
              ed25519_secret_key_encrypted = CASE WHEN signature_scheme = 'hmac' THEN ed25519_secret_key_encrypted ELSE $4 END,
              ed25519_public_key = CASE WHEN signature_scheme = 'hmac' THEN ed25519_public_key ELSE $5 END
        WHERE id = $1
        RETURNING signature_scheme`,
      [id, rotation.signingSecretEncrypted, rotation.previousExpiresAt, rotation.ed25519SecretKeyEncrypted, rotation.ed25519PublicKey],
    )) as [Array<{ signature_scheme: SignatureScheme }>, number];
    return rows[0]?.signature_scheme ?? null;
  }

  /** Deletes the callback; false when it was already gone. */
  async delete(id: string, db: SqlExecutor = this.dataSource): Promise<boolean> {
    const [, deleted] = (await db.query(`DELETE FROM callbacks WHERE id = $1`, [id])) as [unknown, number];
    return deleted > 0;
  }

  /** The callback's URL and enabled flag, its row locked until the caller's transaction ends; null when none is configured. */
  async lockDestination(callback: CallbackRef, db: SqlExecutor): Promise<{ callbackUrl: string; enabled: boolean } | null> {
    const [row] = (await db.query(
      `SELECT callback_url, enabled FROM callbacks WHERE partner_id = $1 AND notification_type_id = $2 FOR UPDATE`,
      [callback.partnerId, callback.notificationTypeId],
    )) as Array<{ callback_url: string; enabled: boolean }>;
    return row ? { callbackUrl: row.callback_url, enabled: row.enabled } : null;
  }

  /** Deletes every callback of the partner; returns their types. */
  async deleteOfPartner(partnerId: string, db: SqlExecutor = this.dataSource): Promise<number[]> {
    const [callbacks] = (await db.query('DELETE FROM callbacks WHERE partner_id = $1 RETURNING notification_type_id', [partnerId])) as [
      Array<{ notification_type_id: number }>,
      number,
    ];
    return callbacks.map((callback) => callback.notification_type_id);
  }

  /** Every callback's sealed secrets and headers. */
  async sealedSecrets(): Promise<SealedCallbackSecrets[]> {
    const rows = (await this.dataSource.query(
      `SELECT id, signing_secret_encrypted, previous_signing_secret_encrypted, headers, headers_encrypted,
              ed25519_secret_key_encrypted, previous_ed25519_secret_key_encrypted, auth_client_secret_encrypted
         FROM callbacks`,
    )) as Array<{
      id: string;
      signing_secret_encrypted: string;
      previous_signing_secret_encrypted: string | null;
      headers: Record<string, string>;
      headers_encrypted: string | null;
      ed25519_secret_key_encrypted: string | null;
      previous_ed25519_secret_key_encrypted: string | null;
      auth_client_secret_encrypted: string | null;
    }>;
    return rows.map((row) => ({
      id: row.id,
      signingSecretEncrypted: row.signing_secret_encrypted,
      previousSigningSecretEncrypted: row.previous_signing_secret_encrypted,
      headers: row.headers,
      headersEncrypted: row.headers_encrypted,
      ed25519SecretKeyEncrypted: row.ed25519_secret_key_encrypted,
      previousEd25519SecretKeyEncrypted: row.previous_ed25519_secret_key_encrypted,
      authClientSecretEncrypted: row.auth_client_secret_encrypted,
    }));
  }

  /** Replaces a callback's sealed secrets and headers, only if it still holds what was read (`read`). */
  async replaceSealedSecrets(read: SealedCallbackSecrets, next: Omit<SealedCallbackSecrets, 'id'>): Promise<void> {
    await this.dataSource.query(
      `UPDATE callbacks SET signing_secret_encrypted = $2, previous_signing_secret_encrypted = $3, headers = $4, headers_encrypted = $5,
              ed25519_secret_key_encrypted = $10, previous_ed25519_secret_key_encrypted = $11, auth_client_secret_encrypted = $12
        WHERE id = $1 AND signing_secret_encrypted = $6 AND previous_signing_secret_encrypted IS NOT DISTINCT FROM $7
          AND headers = $8 AND headers_encrypted IS NOT DISTINCT FROM $9
          AND ed25519_secret_key_encrypted IS NOT DISTINCT FROM $13 AND previous_ed25519_secret_key_encrypted IS NOT DISTINCT FROM $14
          AND auth_client_secret_encrypted IS NOT DISTINCT FROM $15`,
      [
        read.id,
        next.signingSecretEncrypted,
        next.previousSigningSecretEncrypted,
        JSON.stringify(next.headers),
        next.headersEncrypted,
        read.signingSecretEncrypted,
        read.previousSigningSecretEncrypted,
        JSON.stringify(read.headers),
        read.headersEncrypted,
        next.ed25519SecretKeyEncrypted,
        next.previousEd25519SecretKeyEncrypted,
        next.authClientSecretEncrypted,
        read.ed25519SecretKeyEncrypted,
        read.previousEd25519SecretKeyEncrypted,
        read.authClientSecretEncrypted,
      ],
    );
  }

  /** Marks when the callback's circuit opened, unless it is marked already. */
  async markCircuitOpened(callback: CallbackRef, at: Date, db: SqlExecutor = this.dataSource): Promise<void> {
    await db.query(
      `UPDATE callbacks SET circuit_opened_at = $3 WHERE partner_id = $1 AND notification_type_id = $2 AND circuit_opened_at IS NULL`,
      [callback.partnerId, callback.notificationTypeId, at],
    );
  }

  /**
   * Disables the callback for "failing" if it is enabled and has failed for `failingForMs`; returns
   * its URL and streak start, or null when it was not (so only one of many workers trying does it).
   */
  disableFailing(callback: CallbackRef, failingForMs: number, db: SqlExecutor = this.dataSource): Promise<DisabledCallback | null> {
    return this.disable(
      `disabled_reason = 'failing'`,
      `failing_since <= now() - make_interval(secs => $3)`,
      [callback.partnerId, callback.notificationTypeId, failingForMs / 1000],
      db,
    );
  }

  /**
   * Disables the callback for "gone" (its endpoint answered 410 at `answeredAt`) if it is enabled;
   * its streak starts at the answer unless it started before. Null when it was not enabled, or when it
   * is no longer what answered: another URL, or changed by the partner (a PUT) after the answer.
   */
  disableGone(
    callback: CallbackRef,
    answeredAt: Date,
    answeredUrl: string,
    db: SqlExecutor = this.dataSource,
  ): Promise<DisabledCallback | null> {
    return this.disable(
      `disabled_reason = 'gone', failing_since = COALESCE(failing_since, $3)`,
      'callback_url = $4 AND updated_at <= $3',
      [callback.partnerId, callback.notificationTypeId, answeredAt, answeredUrl],
      db,
    );
  }

  private async disable(set: string, condition: string, values: unknown[], db: SqlExecutor): Promise<DisabledCallback | null> {
    const [rows] = (await db.query(
      `UPDATE callbacks SET enabled = false, ${set}, disabled_at = now(), updated_at = now()
        WHERE partner_id = $1 AND notification_type_id = $2 AND enabled AND ${condition}
        RETURNING callback_url, failing_since`,
      values,
    )) as [Array<{ callback_url: string; failing_since: Date }>, number];
    const [row] = rows;
    return row ? { callbackUrl: row.callback_url, failingSince: row.failing_since } : null;
  }
}
