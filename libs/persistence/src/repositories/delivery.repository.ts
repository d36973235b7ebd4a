import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Pool, QueryConfig } from 'pg';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import type {
  AttemptErrorKind,
  CallbackAuthConfig,
  DeliveryOrdering,
  NotificationStatus,
  SignatureScheme,
  StoredDeliveryPolicy,
} from '@callbacks/contracts';
import { Batcher } from '../batcher';
import { createDatabasePool } from '../database-pool';

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
  /** The job's attemptsMade when the failure was recorded (failed notifications only). */
  failedJobAttempts: number | null;
  createdAt: Date;
  /** Its place in its case, for a callback with ordering "case" (taken at intake); null otherwise. */
  caseSequence: number | null;
  callback: {
    url: string;
    /** Stored form: pass the callback to openCallbackHeaders (@callbacks/signing) for the plaintext. */
    headers: Record<string, string>;
    headersEncrypted: string | null;
    enabled: boolean;
    /** Why it is disabled ("partner", "failing", …); null while enabled. */
    disabledReason: string | null;
    signingSecretEncrypted: string;
    previousSigningSecretEncrypted: string | null;
    previousSecretExpiresAt: Date | null;
    signatureScheme: SignatureScheme;
    ed25519SecretKeyEncrypted: string | null;
    previousEd25519SecretKeyEncrypted: string | null;
    previousEd25519ExpiresAt: Date | null;
    /**
     * The MD5 of the callback's CA certificate PEM (tls.caCertificate), or null for the public roots.
     * The PEM itself (up to 16 KiB) is read once per worker (DeliveryRepository.caCertificate), not with every delivery.
     */
    tlsCaHash: string | null;
    auth: CallbackAuthConfig | null;
    authClientSecretEncrypted: string | null;
    /** The delivery policy as stored (resolve it with the operator's bounds). */
    delivery: StoredDeliveryPolicy;
  } | null;
}

/** A notification held behind its predecessor in its case (its job is in its first round). */
export interface HeldNotification {
  notificationId: string;
  partnerId: string;
  notificationTypeId: number;
  test: boolean;
}

export interface AttemptRecord {
  notificationId: string;
  /** The delivery round the attempt belongs to: it changes the notification only in that round. */
  round: number;
  /** The job's attemptsMade, kept with a failure (see DeliveryContext.failedJobAttempts). */
  jobAttempts: number;
  at: Date;
  callbackUrl: string;
  statusCode: number | null;
  durationMs: number;
  error: AttemptErrorKind | null;
  /** Why a tls_error, proxy_error or auth_error happened, in a line. */
  errorDetail: string | null;
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
  payload: string | null;
  test: boolean;
  status: NotificationStatus;
  attempt_count: number;
  round_attempts: number;
  delivery_round: number;
  failed_job_attempts: number | null;
  created_at: Date;
  case_sequence: number | null;
  callback_url: string | null;
  headers: Record<string, string> | null;
  headers_encrypted: string | null;
  enabled: boolean | null;
  disabled_reason: string | null;
  signing_secret_encrypted: string | null;
  previous_signing_secret_encrypted: string | null;
  previous_secret_expires_at: Date | null;
  signature_scheme: SignatureScheme | null;
  ed25519_secret_key_encrypted: string | null;
  previous_ed25519_secret_key_encrypted: string | null;
  previous_ed25519_expires_at: Date | null;
  tls_ca_hash: string | null;
  auth: CallbackAuthConfig | null;
  auth_client_secret_encrypted: string | null;
  delivery_ordering: DeliveryOrdering | null;
  delivery_max_in_flight: number | null;
  delivery_rate_per_second: number | null;
  delivery_timeout_ms: number | null;
}

const CONTEXT_COLUMNS = `n.id, n.partner_id, n.notification_type_id, n.test, n.status, n.attempt_count, n.round_attempts,
  n.delivery_round, n.failed_job_attempts, n.created_at, c.callback_url, c.headers, c.headers_encrypted, c.enabled, c.disabled_reason,
  c.signing_secret_encrypted, c.previous_signing_secret_encrypted, c.previous_secret_expires_at, c.signature_scheme, c.ed25519_secret_key_encrypted,
  c.previous_ed25519_secret_key_encrypted, c.previous_ed25519_expires_at, md5(c.tls_ca_certificate) AS tls_ca_hash, c.auth, c.auth_client_secret_encrypted,
  n.case_sequence, c.delivery_ordering, c.delivery_max_in_flight, c.delivery_rate_per_second, c.delivery_timeout_ms`;

function toContext(row: ContextRow): DeliveryContext {
  return {
    notificationId: row.id,
    partnerId: row.partner_id,
    notificationTypeId: row.notification_type_id,
    payloadText: row.payload ?? '',
    test: row.test,
    status: row.status,
    attemptCount: row.attempt_count,
    roundAttempts: row.round_attempts,
    deliveryRound: row.delivery_round,
    failedJobAttempts: row.failed_job_attempts,
    createdAt: row.created_at,
    caseSequence: row.case_sequence,
    callback:
      row.callback_url === null
        ? null
        : {
            url: row.callback_url,
            headers: row.headers ?? {},
            headersEncrypted: row.headers_encrypted,
            enabled: row.enabled ?? false,
            disabledReason: row.disabled_reason,
            signingSecretEncrypted: row.signing_secret_encrypted ?? '',
            previousSigningSecretEncrypted: row.previous_signing_secret_encrypted,
            previousSecretExpiresAt: row.previous_secret_expires_at,
            signatureScheme: row.signature_scheme ?? 'hmac',
            ed25519SecretKeyEncrypted: row.ed25519_secret_key_encrypted,
            previousEd25519SecretKeyEncrypted: row.previous_ed25519_secret_key_encrypted,
            previousEd25519ExpiresAt: row.previous_ed25519_expires_at,
            tlsCaHash: row.tls_ca_hash,
            auth: row.auth,
            authClientSecretEncrypted: row.auth_client_secret_encrypted,
            delivery: {
              ordering: row.delivery_ordering ?? 'none',
              maxInFlight: row.delivery_max_in_flight,
              ratePerSecond: row.delivery_rate_per_second,
              timeoutMs: row.delivery_timeout_ms,
            },
          },
  };
}

function loadStatement(withPayload: boolean): Pick<QueryConfig, 'name' | 'text'> {
  return {
    name: withPayload ? 'load-deliveries' : 'load-delivery-states',
    // The payload's text as stored (json keeps the text received); null when not needed.
    text: `SELECT ${CONTEXT_COLUMNS}, ${withPayload ? 'n.payload::text' : 'NULL::text'} AS payload
             FROM notifications n
             LEFT JOIN callbacks c ON c.partner_id = n.partner_id AND c.notification_type_id = n.notification_type_id
            WHERE n.id = ANY($1::uuid[])`,
  };
}

/**
 * Records attempts. The attempt number is taken in SQL (attempt_count + 1 under the row lock), so
 * concurrent runs each get their own and no attempt is lost. The notification's state moves on only
 * when it is still pending in the round the attempt belongs to: an attempt that ends after a
 * redelivery started a new round is logged, and changes nothing else. Returns, per notification,
 * whether its state moved.
 */
const RECORD: Pick<QueryConfig, 'name' | 'text'> = {
  name: 'record-attempts',
  text: `WITH input AS (
           SELECT * FROM json_to_recordset($1::json) AS x(
             notification_id uuid, round integer, job_attempts integer, at timestamptz, callback_url varchar, status_code smallint, duration_ms integer,
             error varchar, error_detail varchar, response_body text, status varchar, status_reason varchar, next_attempt_at timestamptz)
         ), current AS (
           SELECT n.id, n.status = 'pending' AND n.delivery_round = i.round AS applies
             FROM notifications n JOIN input i ON i.notification_id = n.id
              FOR UPDATE OF n
         ), numbered AS (
           UPDATE notifications n
              SET attempt_count = n.attempt_count + 1, last_attempt_at = greatest(n.last_attempt_at, i.at),
                  round_attempts = CASE WHEN c.applies THEN n.round_attempts + 1 ELSE n.round_attempts END,
                  status = CASE WHEN c.applies THEN i.status ELSE n.status END,
                  status_reason = CASE WHEN c.applies THEN i.status_reason ELSE n.status_reason END,
                  next_attempt_at = CASE WHEN c.applies THEN i.next_attempt_at ELSE n.next_attempt_at END,
                  delivered_at = CASE WHEN c.applies AND i.status = 'delivered' THEN now() ELSE n.delivered_at END,
                  failed_job_attempts = CASE WHEN c.applies AND i.status = 'failed' THEN i.job_attempts ELSE n.failed_job_attempts END,
                  parked_at = CASE WHEN c.applies THEN NULL ELSE n.parked_at END,
                  waiting_for = CASE WHEN c.applies THEN NULL ELSE n.waiting_for END,
                  updated_at = now()
             FROM input i, current c
            WHERE n.id = i.notification_id AND c.id = n.id
        RETURNING n.id, n.attempt_count, c.applies
         ), attempts AS (
           INSERT INTO delivery_attempts (notification_id, attempt, at, callback_url, status_code, duration_ms, error, error_detail, response_body)
           SELECT i.notification_id, x.attempt_count, i.at, i.callback_url, i.status_code, i.duration_ms, i.error, i.error_detail, i.response_body
             FROM numbered x JOIN input i ON i.notification_id = x.id
         )
         SELECT id, applies FROM numbered`,
};

/**
 * Marks deliveries parked, once: a delivery parked again (woken, and the callback full again) does
 * not write its row. A parked row keeps its due time; the reconciler's scan of overdue rows leaves
 * parked rows alone (their wakes come from Redis, and the reconciler finds lost ones per callback).
 */
const PARK: Pick<QueryConfig, 'name' | 'text'> = {
  name: 'park-deliveries',
  // In the job's own round: a stale job of an older round (still in a waiting list) must not mark the current round's row.
  text: `UPDATE notifications n SET parked_at = now() FROM unnest($1::uuid[], $2::int[]) AS p(id, round)
          WHERE n.id = p.id AND n.delivery_round = p.round AND n.status = 'pending' AND n.parked_at IS NULL`,
};

/** Splits entries into rounds in which each notification appears at most once (one statement each). */
function distinctWaves<T>(entries: T[], key: (entry: T) => string): T[][] {
  const waves: T[][] = [];
  const seen = new Map<string, number>();
  for (const entry of entries) {
    const wave = seen.get(key(entry)) ?? 0;
    seen.set(key(entry), wave + 1);
    (waves[wave] ??= []).push(entry);
  }
  return waves;
}

/**
 * The worker's delivery path on the notifications aggregate (a notification and its attempts), in
 * plain SQL on its own connection pool. Concurrent deliveries share statements: loads made within
 * a couple of milliseconds become one SELECT, attempt records one INSERT + UPDATE, and both are
 * prepared once per connection. (The rest of the aggregate's SQL is in NotificationRepository.)
 *
 * These commits use synchronous_commit=off: a PostgreSQL crash can lose the last fraction of a
 * second of them, which leaves those notifications pending, and the reconciler delivers them
 * again. That is at-least-once, as promised, and spares every batch a wait for the WAL flush.
 * (The API commits synchronously: its 202 promises the notification is on disk.)
 */
@Injectable()
export class DeliveryRepository implements OnApplicationShutdown {
  private readonly pool: Pool;
  private readonly loads = new Batcher((ids: string[]) => this.loadMany(ids, true));
  private readonly stateLoads = new Batcher((ids: string[]) => this.loadMany(ids, false));
  private readonly records = new Batcher((attempts: Array<{ attempt: AttemptRecord; update: NotificationUpdate }>) =>
    this.recordMany(attempts),
  );
  private readonly parks = new Batcher((jobs: Array<{ notificationId: string; round: number }>) => this.parkMany(jobs));

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.pool = createDatabasePool(config.databaseUrl, {
      applicationName: 'partner-callbacks-worker',
      max: 10,
      synchronousCommit: false,
      statementTimeoutMs: config.databaseStatementTimeoutMs,
    });
  }

  /** The notification and its callback; with the payload only for a delivery that holds a slot. */
  load(notificationId: string, withPayload: boolean): Promise<DeliveryContext | null> {
    return (withPayload ? this.loads : this.stateLoads).submit(notificationId);
  }

  /** Marks a delivery parked (once: its row is not written again while it stays parked). */
  park(notificationId: string, round: number): Promise<void> {
    return this.parks.submit({ notificationId, round });
  }

  /** A parked delivery whose job will not run: the reconciler's scan of overdue rows sees to it again. */
  async unpark(notificationId: string): Promise<void> {
    await this.pool.query(`UPDATE notifications SET parked_at = NULL WHERE id = $1 AND status = 'pending' AND parked_at IS NOT NULL`, [
      notificationId,
    ]);
  }

  /** Records an attempt; moves the notification on only if it is still pending in the attempt's round (returns whether it did). */
  recordAttempt(attempt: AttemptRecord, update: NotificationUpdate): Promise<boolean> {
    return this.records.submit({ attempt, update });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }

  private async loadMany(ids: string[], withPayload: boolean): Promise<Array<DeliveryContext | null>> {
    const { rows } = await this.pool.query<ContextRow>({ ...loadStatement(withPayload), values: [ids] });
    const byId = new Map(rows.map((row) => [row.id, toContext(row)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  private async parkMany(jobs: Array<{ notificationId: string; round: number }>): Promise<void[]> {
    await this.pool.query({ ...PARK, values: [jobs.map((job) => job.notificationId), jobs.map((job) => job.round)] });
    return jobs.map(() => undefined);
  }

  private async recordMany(entries: Array<{ attempt: AttemptRecord; update: NotificationUpdate }>): Promise<boolean[]> {
    const applied = new Map<{ attempt: AttemptRecord; update: NotificationUpdate }, boolean>();
    // Two attempts for one notification in one statement would share a number: one statement each.
    for (const wave of distinctWaves(entries, (entry) => entry.attempt.notificationId)) {
      const results = await this.recordWave(wave);
      wave.forEach((entry, index) => applied.set(entry, results[index]));
    }
    return entries.map((entry) => applied.get(entry)!);
  }

  private async recordWave(entries: Array<{ attempt: AttemptRecord; update: NotificationUpdate }>): Promise<boolean[]> {
    const input = entries.map(({ attempt, update }) => ({
      notification_id: attempt.notificationId,
      round: attempt.round,
      job_attempts: attempt.jobAttempts,
      at: attempt.at.toISOString(),
      callback_url: attempt.callbackUrl,
      status_code: attempt.statusCode,
      duration_ms: attempt.durationMs,
      error: attempt.error,
      error_detail: attempt.errorDetail,
      response_body: attempt.responseBody,
      status: update.status,
      status_reason: update.statusReason,
      next_attempt_at: update.nextAttemptAt?.toISOString() ?? null,
    }));
    const { rows } = await this.pool.query<{ id: string; applies: boolean }>({ ...RECORD, values: [JSON.stringify(input)] });
    const applied = new Map(rows.map((row) => [row.id, row.applies]));
    return entries.map(({ attempt }) => applied.get(attempt.notificationId) ?? false);
  }

  /**
   * Ends a notification whose job crashed workers too often: failed with reason worker_crash, and an
   * attempt in the log saying so (nothing was known to be sent). Only in the job's own round.
   */
  async quarantine(notificationId: string, round: number, jobAttempts: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `WITH ended AS (
         UPDATE notifications
            SET attempt_count = attempt_count + 1, status = 'failed', status_reason = 'worker_crash', next_attempt_at = NULL,
                parked_at = NULL, waiting_for = NULL, failed_job_attempts = $3, last_attempt_at = now(), updated_at = now()
          WHERE id = $1 AND status = 'pending' AND delivery_round = $2
      RETURNING id, attempt_count, partner_id, notification_type_id
       )
       INSERT INTO delivery_attempts (notification_id, attempt, at, callback_url, status_code, duration_ms, error, response_body)
       SELECT e.id, e.attempt_count, now(), coalesce(c.callback_url, ''), NULL, 0, 'worker_crash', NULL
         FROM ended e LEFT JOIN callbacks c ON c.partner_id = e.partner_id AND c.notification_type_id = e.notification_type_id`,
      [notificationId, round, jobAttempts],
    );
    return (rowCount ?? 0) > 0;
  }

  /** Ends a pending notification without an attempt (callback deleted or disabled). */
  async skip(notificationId: string, round: number, reason: string): Promise<void> {
    await this.pool.query(
      `UPDATE notifications SET status = 'skipped', status_reason = $3, next_attempt_at = NULL, parked_at = NULL, waiting_for = NULL, updated_at = now()
        WHERE id = $1 AND status = 'pending' AND delivery_round = $2`,
      [notificationId, round, reason],
    );
  }

  /** A callback's CA certificate PEM (its tls.caCertificate), or null. */
  /**
   * Case ordering: the predecessor a notification must wait for, or null. It waits while the
   * previous one of its case (case_sequence - 1) is pending in its first round; a redelivered or
   * recovered one (a later round) is out of band: it neither waits nor is waited for. Marks the
   * notification as waiting (waiting_for, and its next attempt pushed to `until`: the reconciler's
   * overdue scan leaves it alone) or clears a mark it no longer needs.
   */
  async holdFor(notificationId: string, until: Date): Promise<string | null> {
    const { rows } = await this.pool.query<{ predecessor: string | null }>({
      name: 'hold-for-predecessor',
      text: `WITH me AS (
               SELECT * FROM notifications WHERE id = $1 AND status = 'pending' AND delivery_round = 0 AND case_sequence > 1
             ), predecessor AS (
               SELECT p.id FROM me JOIN notifications p
                 ON p.partner_id = me.partner_id AND p.notification_type_id = me.notification_type_id
                AND coalesce(p.process_unique_id, p.simulation_unique_id) = coalesce(me.process_unique_id, me.simulation_unique_id)
                AND p.process_unique_id IS NOT DISTINCT FROM me.process_unique_id
                AND p.case_sequence = me.case_sequence - 1
              WHERE p.status = 'pending' AND p.delivery_round = 0
             ), marked AS (
               UPDATE notifications n
                  SET waiting_for = (SELECT id FROM predecessor),
                      next_attempt_at = CASE WHEN EXISTS (SELECT 1 FROM predecessor) THEN greatest(n.next_attempt_at, $2) ELSE n.next_attempt_at END
                WHERE n.id = $1 AND n.waiting_for IS DISTINCT FROM (SELECT id FROM predecessor)
             )
             SELECT (SELECT id FROM predecessor) AS predecessor`,
      values: [notificationId, until],
    });
    return rows[0]?.predecessor ?? null;
  }

  /** Whether a held notification's predecessor is still pending in its first round (the hold still stands). */
  async stillHeldBy(predecessorId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query({
      name: 'predecessor-pending',
      text: `SELECT 1 FROM notifications WHERE id = $1 AND status = 'pending' AND delivery_round = 0`,
      values: [predecessorId],
    });
    return (rowCount ?? 0) > 0;
  }

  /** The pending notifications held behind `predecessorId` (one, in a case numbered once), to wake when it ends. */
  async heldBehind(predecessorId: string): Promise<HeldNotification[]> {
    const { rows } = await this.pool.query<{ id: string; partner_id: string; notification_type_id: number; test: boolean }>({
      name: 'held-behind',
      text: `SELECT id, partner_id, notification_type_id, test FROM notifications WHERE waiting_for = $1 AND status = 'pending'`,
      values: [predecessorId],
    });
    return rows.map((row) => ({
      notificationId: row.id,
      partnerId: row.partner_id,
      notificationTypeId: row.notification_type_id,
      test: row.test,
    }));
  }

  /** A callback's delivery policy as stored; null when it has no callback. */
  async deliveryPolicy(partnerId: string, notificationTypeId: number): Promise<StoredDeliveryPolicy | null> {
    const { rows } = await this.pool.query<{
      delivery_ordering: DeliveryOrdering;
      delivery_max_in_flight: number | null;
      delivery_rate_per_second: number | null;
      delivery_timeout_ms: number | null;
    }>({
      name: 'load-delivery-policy',
      text: `SELECT delivery_ordering, delivery_max_in_flight, delivery_rate_per_second, delivery_timeout_ms
               FROM callbacks WHERE partner_id = $1 AND notification_type_id = $2`,
      values: [partnerId, notificationTypeId],
    });
    const [row] = rows;
    if (!row) return null;
    return {
      ordering: row.delivery_ordering,
      maxInFlight: row.delivery_max_in_flight,
      ratePerSecond: row.delivery_rate_per_second,
      timeoutMs: row.delivery_timeout_ms,
    };
  }

  async caCertificate(partnerId: string, notificationTypeId: number): Promise<string | null> {
    const { rows } = await this.pool.query<{ tls_ca_certificate: string | null }>(
      `SELECT tls_ca_certificate FROM callbacks WHERE partner_id = $1 AND notification_type_id = $2`,
      [partnerId, notificationTypeId],
    );
    return rows[0]?.tls_ca_certificate ?? null;
  }

  async isPendingInRound(notificationId: string, round: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(`SELECT 1 FROM notifications WHERE id = $1 AND status = 'pending' AND delivery_round = $2`, [
      notificationId,
      round,
    ]);
    return (rowCount ?? 0) > 0;
  }

  /** A failed notification whose failed job is retried (from Bull Board) starts a new round of the schedule. */
  async reopen(notificationId: string): Promise<void> {
    await this.pool.query(
      `UPDATE notifications SET status = 'pending', status_reason = NULL, round_attempts = 0, updated_at = now() WHERE id = $1 AND status = 'failed'`,
      [notificationId],
    );
  }
}
