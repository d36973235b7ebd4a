import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { NotificationStatus } from '@callbacks/contracts';

/** One accepted event for one partner: the source of truth for its delivery. */
@Entity({ name: 'notifications' })
export class NotificationEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  /** Insertion order: the delivery log's cursor (stable under inserts, unlike timestamps). */
  @Column({ type: 'bigint', insert: false, update: false })
  seq: string;

  @Column({ name: 'partner_id', type: 'uuid' })
  partnerId: string;

  @Column({ name: 'notification_type_id', type: 'smallint' })
  notificationTypeId: number;

  @Column({ type: 'json' })
  payload: Record<string, unknown>;

  @Column({ type: 'boolean', default: false })
  test: boolean;

  /** The case the notification is about: exactly one of the two is set (from the payload, at intake). */
  @Column({ name: 'process_unique_id', type: 'varchar', length: 128, nullable: true })
  processUniqueId: string | null;

  @Column({ name: 'simulation_unique_id', type: 'varchar', length: 128, nullable: true })
  simulationUniqueId: string | null;

  /** For a callback with ordering "case": its place in its case, 1, 2, 3… (taken at intake); null otherwise. */
  @Column({ name: 'case_sequence', type: 'integer', nullable: true })
  caseSequence: number | null;

  /** A held notification of an ordered callback: the previous one of its case, which it waits for. */
  @Column({ name: 'waiting_for', type: 'uuid', nullable: true })
  waitingFor: string | null;

  @Column({ type: 'varchar', length: 16 })
  status: NotificationStatus;

  /** Why it was skipped or failed, e.g. "no_callback", "callback_disabled", "retries_exhausted". */
  @Column({ name: 'status_reason', type: 'varchar', length: 64, nullable: true })
  statusReason: string | null;

  @Column({ name: 'attempt_count', type: 'integer', default: 0 })
  attemptCount: number;

  /** Attempts in the current round; the retry schedule position. A redelivery starts a new round. */
  @Column({ name: 'round_attempts', type: 'integer', default: 0 })
  roundAttempts: number;

  @Column({ name: 'delivery_round', type: 'integer', default: 0 })
  deliveryRound: number;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;

  @Column({ name: 'last_attempt_at', type: 'timestamptz', nullable: true })
  lastAttemptAt: Date | null;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt: Date | null;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt: Date | null;
}
