import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A signed-in portal browser. Only the SHA-256 of the cookie's token is stored; signing out deletes the row. */
@Entity({ name: 'portal_sessions' })
export class PortalSessionEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Index({ unique: true })
  @Column({ name: 'token_hash', type: 'char', length: 64 })
  tokenHash: string;

  @Index()
  @Column({ name: 'partner_id', type: 'uuid' })
  partnerId: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  /** The API key whose link started the session; null: the operator. Revoking the key ends the session. */
  @Column({ name: 'api_key_id', type: 'uuid', nullable: true })
  apiKeyId: string | null;
}
