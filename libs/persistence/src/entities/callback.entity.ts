import { Column, CreateDateColumn, Entity, PrimaryColumn, Unique, UpdateDateColumn } from 'typeorm';
import type { CallbackAuthConfig, CallbackDisabledReason, DeliveryOrdering, SignatureScheme } from '@callbacks/contracts';

/** One callback URL per partner and notification type. */
@Entity({ name: 'callbacks' })
@Unique('uq_callbacks_partner_type', ['partnerId', 'notificationTypeId'])
export class CallbackEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'partner_id', type: 'uuid' })
  partnerId: string;

  @Column({ name: 'notification_type_id', type: 'smallint' })
  notificationTypeId: number;

  @Column({ name: 'callback_url', type: 'varchar', length: 2048 })
  callbackUrl: string;

  /** Plaintext custom headers of rows written before encryption; {} once headersEncrypted is set. */
  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" })
  headers: Record<string, string>;

  /** AES-256-GCM of the custom headers as JSON (see openCallbackHeaders); null: none, or a plaintext row. */
  @Column({ name: 'headers_encrypted', type: 'text', nullable: true })
  headersEncrypted: string | null;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  /** Why a disabled callback is disabled: the partner said so, or it failed for CALLBACK_DISABLE_AFTER. */
  @Column({ name: 'disabled_reason', type: 'varchar', length: 16, nullable: true })
  disabledReason: CallbackDisabledReason | null;

  @Column({ name: 'disabled_at', type: 'timestamptz', nullable: true })
  disabledAt: Date | null;

  /** The first failed attempt of the current streak (no success since); null while healthy. */
  @Column({ name: 'failing_since', type: 'timestamptz', nullable: true })
  failingSince: Date | null;

  /** The last successful attempt (kept to about a second: workers write it at most once a second). */
  @Column({ name: 'last_success_at', type: 'timestamptz', nullable: true })
  lastSuccessAt: Date | null;

  /** When the circuit last opened; the next success clears it and tells the operator (callback.recovered). */
  @Column({ name: 'circuit_opened_at', type: 'timestamptz', nullable: true })
  circuitOpenedAt: Date | null;

  /** AES-256-GCM ciphertext of the whsec_ signing secret (see SecretCipher). */
  @Column({ name: 'signing_secret_encrypted', type: 'text' })
  signingSecretEncrypted: string;

  /** The secret before the last rotation; it signs alongside until previousSecretExpiresAt. */
  @Column({ name: 'previous_signing_secret_encrypted', type: 'text', nullable: true })
  previousSigningSecretEncrypted: string | null;

  @Column({ name: 'previous_secret_expires_at', type: 'timestamptz', nullable: true })
  previousSecretExpiresAt: Date | null;

  /** hmac: v1 signatures; ed25519: v1a; both: side by side (a partner moving from one to the other). */
  @Column({ name: 'signature_scheme', type: 'varchar', length: 8, default: 'hmac' })
  signatureScheme: SignatureScheme;

  /** AES-256-GCM of the whsk_ ed25519 private key; made the first time the callback asks for ed25519, then kept. */
  @Column({ name: 'ed25519_secret_key_encrypted', type: 'text', nullable: true })
  ed25519SecretKeyEncrypted: string | null;

  /** whpk_…: public, served at …/public-key. */
  @Column({ name: 'ed25519_public_key', type: 'varchar', length: 64, nullable: true })
  ed25519PublicKey: string | null;

  /** The key pair before the last rotation; it signs alongside until previousEd25519ExpiresAt. */
  @Column({ name: 'previous_ed25519_secret_key_encrypted', type: 'text', nullable: true })
  previousEd25519SecretKeyEncrypted: string | null;

  @Column({ name: 'previous_ed25519_public_key', type: 'varchar', length: 64, nullable: true })
  previousEd25519PublicKey: string | null;

  @Column({ name: 'previous_ed25519_expires_at', type: 'timestamptz', nullable: true })
  previousEd25519ExpiresAt: Date | null;

  /** PEM: the CA(s) the endpoint's certificate must chain to, instead of the public roots; null: the public roots. */
  @Column({ name: 'tls_ca_certificate', type: 'text', nullable: true })
  tlsCaCertificate: string | null;

  /** OAuth2 client credentials without the secret; null: no token is sent. */
  @Column({ type: 'jsonb', nullable: true })
  auth: CallbackAuthConfig | null;

  /** AES-256-GCM of auth's client secret; write-only (never returned). */
  @Column({ name: 'auth_client_secret_encrypted', type: 'text', nullable: true })
  authClientSecretEncrypted: string | null;

  /** Delivery policy (issue 20): none, or case (one at a time per case, in acceptance order). */
  @Column({ name: 'delivery_ordering', type: 'varchar', length: 8, default: 'none' })
  deliveryOrdering: DeliveryOrdering;

  /** The partner's in-flight cap; null: CALLBACK_MAX_IN_FLIGHT. */
  @Column({ name: 'delivery_max_in_flight', type: 'smallint', nullable: true })
  deliveryMaxInFlight: number | null;

  /** Attempts started per second at most; null: no limit. */
  @Column({ name: 'delivery_rate_per_second', type: 'smallint', nullable: true })
  deliveryRatePerSecond: number | null;

  /** Each attempt's timeout; null: DELIVERY_TIMEOUT_MS. */
  @Column({ name: 'delivery_timeout_ms', type: 'integer', nullable: true })
  deliveryTimeoutMs: number | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
