import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** A partner API key. Only its SHA-256 is stored: the key itself is shown once, at creation. */
@Entity({ name: 'api_keys' })
export class ApiKeyEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Index()
  @Column({ name: 'partner_id', type: 'uuid' })
  partnerId: string;

  @Index({ unique: true })
  @Column({ name: 'key_hash', type: 'char', length: 64 })
  keyHash: string;

  /** The key's first characters, so an operator can tell keys apart without seeing them. */
  @Column({ name: 'key_prefix', type: 'varchar', length: 16 })
  keyPrefix: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  /** The key ends in a MAC (issued from issue 18 on); false: an old-format key, told from forged ones by its hash. */
  @Column({ name: 'mac_format', type: 'boolean', default: false })
  macFormat: boolean;
}
