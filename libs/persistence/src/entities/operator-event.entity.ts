import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { OperatorEventType } from '@callbacks/contracts';

/**
 * An operator event (the outbox of what OPERATOR_WEBHOOK_URL is told): committed before its job
 * is added, re-enqueued by the operator-event reconciler when Redis loses the job.
 */
@Entity({ name: 'operator_events' })
@Check('operator_events_status_check', `status IN ('pending', 'delivered', 'failed')`)
@Index('ix_operator_events_pending', ['updatedAt'], { where: `status = 'pending'` })
@Index('ix_operator_events_coalesce', ['coalesceKey', 'dueAt'], { where: 'coalesce_key IS NOT NULL' })
@Index('uq_operator_events_accumulating', ['coalesceKey'], { unique: true, where: 'accumulating' })
export class OperatorEventEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'varchar', length: 32 })
  type: OperatorEventType;

  /** The event's `data` as sent (wire names: partnerUniqueId). */
  @Column({ type: 'json' })
  data: Record<string, unknown>;

  /** notification.exhausted events of one callback share a key; while accumulating, failures are counted into the row. */
  @Column({ name: 'coalesce_key', type: 'varchar', length: 128, nullable: true })
  coalesceKey: string | null;

  @Column({ type: 'integer', default: 1 })
  count: number;

  @Column({ type: 'boolean', default: false })
  accumulating: boolean;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status: 'pending' | 'delivered' | 'failed';

  @Column({ name: 'status_reason', type: 'varchar', length: 64, nullable: true })
  statusReason: string | null;

  @Column({ name: 'attempt_count', type: 'integer', default: 0 })
  attemptCount: number;

  /** When the first attempt is due (the end of a coalescing window). */
  @Column({ name: 'due_at', type: 'timestamptz', default: () => 'now()' })
  dueAt: Date;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt: Date | null;

  @Column({ name: 'last_attempt_at', type: 'timestamptz', nullable: true })
  lastAttemptAt: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
