import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { NotificationStatus } from '@callbacks/contracts';
import { NotificationEntity } from './notification.entity';

/** An Idempotency-Key a caller used, and the response it replays for IDEMPOTENCY_WINDOW_HOURS. */
@Entity({ name: 'idempotency_keys' })
@Index('ix_idempotency_keys_created_at', ['createdAt'])
@Index('ix_idempotency_keys_notification', ['notificationId'])
export class IdempotencyKeyEntity {
  /** Who sent the key (keys are scoped to their caller). */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  caller: string;

  @PrimaryColumn({ type: 'varchar', length: 255 })
  key: string;

  @Column({ name: 'notification_id', type: 'uuid' })
  notificationId: string;

  /** Deleting a notification deletes its keys. */
  @ManyToOne(() => NotificationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'notification_id', foreignKeyConstraintName: 'idempotency_keys_notification_id_fkey' })
  notification?: NotificationEntity;

  @Column({ name: 'response_status', type: 'varchar', length: 16 })
  responseStatus: NotificationStatus;

  /** SHA-256 of partner, type and payload: the key replays only that request. NULL for keys older than the hash. */
  @Column({ name: 'request_hash', type: 'char', length: 64, nullable: true })
  requestHash: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
