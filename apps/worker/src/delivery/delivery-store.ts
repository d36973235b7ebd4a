import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Pool, type QueryConfig } from 'pg';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import type { AttemptErrorKind, NotificationStatus } from '@callbacks/contracts';
import { Batcher } from '@callbacks/persistence';

/** What one delivery needs, loaded in one query: the notification and its callback as of now. */
export interface DeliveryContext {
  notificationId: string;
  partnerId: string;
  notificationTypeId: number;
  /** The payload's JSON text as received; never parsed here. */
  payloadText: string;
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
  payload: string;
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

const CONTEXT_COLUMNS = `n.id, n.partner_id, n.notification_type_id, n.payload::text AS payload, n.test, n.status, n.attempt_count, n.round_attempts,
  n.delivery_round, n.created_at, c.callback_url, c.headers, c.enabled, c.signing_secret_encrypted,
  c.previous_signing_secret_encrypted, c.previous_secret_expires_at`;

function toContext(row: ContextRow): DeliveryContext {
  return {
    notificationId: row.id,
    partnerId: row.partner_id,
    notificationTypeId: row.notification_type_id,
    payloadText: row.payload,
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

const LOAD: Pick<QueryConfig, 'name' | 'text'> = {
  name: 'load-deliveries',
  text: `SELECT ${CONTEXT_COLUMNS}
           FROM notifications n
           LEFT JOIN callbacks c ON c.partner_id = n.partner_id AND c.notification_type_id = n.notification_type_id
          WHERE n.id = ANY($1::uuid[])`,
};

const RECORD: Pick<QueryConfig, 'name' | 'text'> = {
  name: 'record-attempts',
  text: `WITH input AS (
           SELECT * FROM json_to_recordset($1::json) AS x(
             notification_id uuid, attempt integer, at timestamptz, callback_url varchar, status_code smallint, duration_ms integer,
             error varchar, response_body text, status varchar, status_reason varchar, next_attempt_at timestamptz)
         ), attempts AS (
           INSERT INTO delivery_attempts (notification_id, attempt, at, callback_url, status_code, duration_ms, error, response_body)
           SELECT notification_id, attempt, at, callback_url, status_code, duration_ms, error, response_body FROM input
           ON CONFLICT (notification_id, attempt) DO NOTHING
         )
         UPDATE notifications n
            SET attempt_count = i.attempt, round_attempts = n.round_attempts + 1, last_attempt_at = i.at, status = i.status,
                status_reason = i.status_reason, next_attempt_at = i.next_attempt_at,
                delivered_at = CASE WHEN i.status = 'delivered' THEN now() ELSE n.delivered_at END, updated_at = now()
           FROM input i
          WHERE n.id = i.notification_id AND n.status = 'pending'
          RETURNING n.id`,
};

/**
 * The worker's reads and writes, in plain SQL on its own connection pool. Concurrent deliveries
 * share statements: loads made within a couple of milliseconds become one SELECT, attempt records
 * one INSERT + UPDATE, and both are prepared once per connection.
 *
 * These commits use synchronous_commit=off: a PostgreSQL crash can lose the last fraction of a
 * second of them, which leaves those notifications pending, and the reconciler delivers them
 * again. That is at-least-once, as promised, and spares every batch a wait for the WAL flush.
 * (The API commits synchronously: its 202 promises the notification is on disk.)
 */
@Injectable()
export class DeliveryStore implements OnApplicationShutdown {
  private readonly pool: Pool;
  private readonly loads = new Batcher((ids: string[]) => this.loadMany(ids));
  private readonly records = new Batcher((attempts: Array<{ attempt: AttemptRecord; update: NotificationUpdate }>) => this.recordMany(attempts));

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.pool = new Pool({
      connectionString: config.databaseUrl,
      max: 10,
      connectionTimeoutMillis: 5_000,
      application_name: 'partner-callbacks-worker',
      options: '-c synchronous_commit=off',
    });
    this.pool.on('error', () => undefined); // an idle connection dropped; the next query reconnects
  }

  load(notificationId: string): Promise<DeliveryContext | null> {
    return this.loads.submit(notificationId);
  }

  /** Records an attempt and moves the notification on, unless another run already did (returns false). */
  recordAttempt(attempt: AttemptRecord, update: NotificationUpdate): Promise<boolean> {
    return this.records.submit({ attempt, update });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }

  private async loadMany(ids: string[]): Promise<Array<DeliveryContext | null>> {
    const { rows } = await this.pool.query<ContextRow>({ ...LOAD, values: [ids] });
    const byId = new Map(rows.map((row) => [row.id, toContext(row)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  private async recordMany(entries: Array<{ attempt: AttemptRecord; update: NotificationUpdate }>): Promise<boolean[]> {
    const input = entries.map(({ attempt, update }) => ({
      notification_id: attempt.notificationId,
      attempt: attempt.attempt,
      at: attempt.at.toISOString(),
      callback_url: attempt.callbackUrl,
      status_code: attempt.statusCode,
      duration_ms: attempt.durationMs,
      error: attempt.error,
      response_body: attempt.responseBody,
      status: update.status,
      status_reason: update.statusReason,
      next_attempt_at: update.nextAttemptAt?.toISOString() ?? null,
    }));
    const { rows } = await this.pool.query<{ id: string }>({ ...RECORD, values: [JSON.stringify(input)] });
    const updated = new Set(rows.map((row) => row.id));
    return entries.map(({ attempt }) => updated.has(attempt.notificationId));
  }

  /** Ends a pending notification without an attempt (callback deleted or disabled). */
  async skip(notificationId: string, reason: string): Promise<void> {
    await this.pool.query(
      `UPDATE notifications SET status = 'skipped', status_reason = $2, next_attempt_at = NULL, updated_at = now() WHERE id = $1 AND status = 'pending'`,
      [notificationId, reason],
    );
  }

  /** A failed notification whose job is retried (from Bull Board) starts a new round of the schedule. */
  async reopen(notificationId: string): Promise<void> {
    await this.pool.query(
      `UPDATE notifications SET status = 'pending', status_reason = NULL, round_attempts = 0, updated_at = now() WHERE id = $1 AND status = 'failed'`,
      [notificationId],
    );
  }
}
