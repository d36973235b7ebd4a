import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One HTTP attempt to deliver a notification, as the partner's endpoint answered it. */
@Entity({ name: 'delivery_attempts' })
export class DeliveryAttemptEntity {
  @PrimaryColumn({ name: 'notification_id', type: 'uuid' })
  notificationId: string;

  @PrimaryColumn({ type: 'integer' })
  attempt: number;

  @Column({ type: 'timestamptz' })
  at: Date;

  @Column({ name: 'callback_url', type: 'varchar', length: 2048 })
  callbackUrl: string;

  @Column({ name: 'status_code', type: 'smallint', nullable: true })
  statusCode: number | null;

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs: number;

  @Column({ type: 'varchar', length: 32, nullable: true })
  error: string | null;

  @Column({ name: 'response_body', type: 'text', nullable: true })
  responseBody: string | null;

  /** Why a tls_error, proxy_error or auth_error happened, in a line (never a secret). */
  @Column({ name: 'error_detail', type: 'varchar', length: 300, nullable: true })
  errorDetail: string | null;
}
