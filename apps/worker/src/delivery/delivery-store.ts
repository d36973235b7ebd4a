import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AttemptErrorKind, NotificationStatus } from '@callbacks/contracts';

/** What one delivery needs, loaded in one query: the notification and its callback as of now. */
export interface DeliveryContext {
  notificationId: string;
  partnerId: string;
  notificationTypeId: number;
  payload: Record<string, unknown>;
  test: boolean;
  status: NotificationStatus;
  attemptCount: number;
  roundAttempts: number;
  deliveryRound: number;
  createdAt: Date;
  callback: {
    url: string;
    headers: Record<string, string>;
    enabled: boolean;
    signingSecretEncrypted: string;
    previousSigningSecretEncrypted: string | null;
    previousSecretExpiresAt: Date | null;
  } | null;
}

export interface AttemptRecord {
  notificationId: string;
  attempt: number;
  at: Date;
  callbackUrl: string;
  statusCode: number | null;
  durationMs: number;
  error: AttemptErrorKind | null;
  responseBody: string | null;
}

export interface NotificationUpdate {
  status: NotificationStatus;
  statusReason: string | null;
  nextAttemptAt: Date | null;
}

interface ContextRow {
  id: string;
  partner_id: string;
  notification_type_id: number;
  payload: Record<string, unknown>;
  test: boolean;
  status: NotificationStatus;
  attempt_count: number;
  round_attempts: number;
  delivery_round: number;
  created_at: Date;
  callback_url: string | null;
  headers: Record<string, string> | null;
  enabled: boolean | null;
  signing_secret_encrypted: string | null;
  previous_signing_secret_encrypted: string | null;
  previous_secret_expires_at: Date | null;
}

/**
 * The worker's reads and writes, in plain SQL: one round trip to load a delivery and one to
 * record an attempt together with the notification's new state.
 */
@Injectable()
export class DeliveryStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async load(notificationId: string): Promise<DeliveryContext | null> {
    const rows = (await this.dataSource.query(
      `SELECT n.id, n.partner_id, n.notification_type_id, n.payload, n.test, n.status, n.attempt_count, n.round_attempts,
              n.delivery_round, n.created_at, c.callback_url, c.headers, c.enabled, c.signing_secret_encrypted,
              c.previous_signing_secret_encrypted, c.previous_secret_expires_at
         FROM notifications n
         LEFT JOIN callbacks c ON c.partner_id = n.partner_id AND c.notification_type_id = n.notification_type_id
        WHERE n.id = $1`,
      [notificationId],
    )) as ContextRow[];
    const row = rows[0];
    if (!row) return null;
    return {
      notificationId: row.id,
      partnerId: row.partner_id,
      notificationTypeId: row.notification_type_id,
      payload: row.payload,
      test: row.test,
      status: row.status,
      attemptCount: row.attempt_count,
      roundAttempts: row.round_attempts,
      deliveryRound: row.delivery_round,
      createdAt: row.created_at,
      callback:
        row.callback_url === null
          ? null
          : {
              url: row.callback_url,
              headers: row.headers ?? {},
              enabled: row.enabled ?? false,
              signingSecretEncrypted: row.signing_secret_encrypted ?? '',
              previousSigningSecretEncrypted: row.previous_signing_secret_encrypted,
              previousSecretExpiresAt: row.previous_secret_expires_at,
            },
    };
  }

  /** Records an attempt and moves the notification on, unless another run already did (returns false). */
  async recordAttempt(attempt: AttemptRecord, update: NotificationUpdate): Promise<boolean> {
    // TypeORM answers an UPDATE with [rows, affected count].
    const [, updated] = (await this.dataSource.query(
      `WITH attempt AS (
         INSERT INTO delivery_attempts (notification_id, attempt, at, callback_url, status_code, duration_ms, error, response_body)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       )
       UPDATE notifications
          SET attempt_count = $2, round_attempts = round_attempts + 1, last_attempt_at = $3, status = $9::varchar, status_reason = $10,
              next_attempt_at = $11, delivered_at = CASE WHEN $9::varchar = 'delivered' THEN now() ELSE delivered_at END, updated_at = now()
        WHERE id = $1 AND status = 'pending'
        RETURNING id`,
      [
        attempt.notificationId,
        attempt.attempt,
        attempt.at,
        attempt.callbackUrl,
        attempt.statusCode,
        attempt.durationMs,
        attempt.error,
        attempt.responseBody,
        update.status,
        update.statusReason,
        update.nextAttemptAt,
      ],
    )) as [unknown[], number];
    return updated > 0;
  }

  /** Ends a pending notification without an attempt (callback deleted or disabled). */
  async skip(notificationId: string, reason: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE notifications SET status = 'skipped', status_reason = $2, next_attempt_at = NULL, updated_at = now() WHERE id = $1 AND status = 'pending'`,
      [notificationId, reason],
    );
  }

  /** A failed notification whose job is retried (from Bull Board) starts a new round of the schedule. */
  async reopen(notificationId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE notifications SET status = 'pending', status_reason = NULL, round_attempts = 0, updated_at = now() WHERE id = $1 AND status = 'failed'`,
      [notificationId],
    );
  }
}
