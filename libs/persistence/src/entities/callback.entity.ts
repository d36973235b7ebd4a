import { Column, CreateDateColumn, Entity, PrimaryColumn, Unique, UpdateDateColumn } from 'typeorm';

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

  /** AES-256-GCM ciphertext of the whsec_ signing secret (see SecretCipher). */
  @Column({ name: 'signing_secret_encrypted', type: 'text' })
  signingSecretEncrypted: string;

  /** The secret before the last rotation; it signs alongside until previousSecretExpiresAt. */
  @Column({ name: 'previous_signing_secret_encrypted', type: 'text', nullable: true })
  previousSigningSecretEncrypted: string | null;

  @Column({ name: 'previous_secret_expires_at', type: 'timestamptz', nullable: true })
  previousSecretExpiresAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
