import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Who made a change: the operator key, a partner's API key, or a portal session. */
export type AuditActorKind = 'operator' | 'api_key' | 'portal_session';

/**
 * One entry of the audit trail (append-only: a trigger refuses updates). It names ids only, never a
 * secret, a header value or a payload, and has no foreign key: it outlives the partner's erasure.
 */
@Entity({ name: 'audit_entries' })
@Check('ck_audit_entries_actor_kind', `actor_kind IN ('operator', 'api_key', 'portal_session')`)
@Index('ix_audit_entries_partner', ['partnerId', 'at', 'seq'])
@Index('ix_audit_entries_at', ['at', 'seq'])
export class AuditEntryEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  /** Insertion order: breaks ties between entries of the same time (the list is ordered by at, then seq). */
  @Column({ type: 'bigint', generated: 'identity', generatedIdentity: 'ALWAYS' })
  seq: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  at: Date;

  @Column({ type: 'varchar', length: 48 })
  action: string;

  @Column({ name: 'actor_kind', type: 'varchar', length: 16 })
  actorKind: AuditActorKind;

  /** The API key's or the portal session's id; null for the operator. */
  @Column({ name: 'actor_id', type: 'varchar', length: 64, nullable: true })
  actorId: string | null;

  @Column({ name: 'partner_id', type: 'uuid', nullable: true })
  partnerId: string | null;

  /** What was changed, as `kind:id` (e.g. `notification_type:5`, `api_key:<uuid>`). */
  @Column({ type: 'varchar', length: 160, nullable: true })
  target: string | null;

  @Column({ type: 'jsonb', default: {} })
  details: Record<string, unknown>;

  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId: string | null;

  @Column({ name: 'source_address', type: 'varchar', length: 64, nullable: true })
  sourceAddress: string | null;
}
