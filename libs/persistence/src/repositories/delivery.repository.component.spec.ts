import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createTestEnvironment, type TestEnvironment } from '@callbacks/testing';
import { type AttemptRecord, DeliveryRepository, type NotificationUpdate } from './delivery.repository';

/**
 * The worker's delivery repository against a real PostgreSQL: rounds, the reopen rule, attempt
 * numbering (under concurrency and within one batch) and quarantine, each asked of the repository
 * directly (no queue, no HTTP).
 */
describe('DeliveryRepository (component: its statements on PostgreSQL)', () => {
  let environment: TestEnvironment;
  let deliveries: DeliveryRepository;
  let db: Pool;
  const partnerId = randomUUID();

  beforeAll(async () => {
    environment = await createTestEnvironment();
    deliveries = new DeliveryRepository(environment.config);
    db = new Pool({ connectionString: environment.databaseUrl, max: 2 });
    await db.query(`INSERT INTO partners (id, name) VALUES ($1, 'Acme')`, [partnerId]);
    await db.query(
      `INSERT INTO callbacks (id, partner_id, notification_type_id, callback_url, signing_secret_encrypted) VALUES ($1, $2, 5, 'https://acme.example/hook', 'sealed')`,
      [randomUUID(), partnerId],
    );
  });
  afterAll(async () => {
    await deliveries.onApplicationShutdown();
    await db.end();
    await environment.destroy();
  });

  const pending = async (fields: { round?: number; status?: string; failedJobAttempts?: number } = {}): Promise<string> => {
    const id = randomUUID();
    await db.query(
      `INSERT INTO notifications (id, partner_id, notification_type_id, payload, process_unique_id, status, delivery_round, failed_job_attempts, next_attempt_at)
       VALUES ($1, $2, 5, '{"processUniqueId":"P-1","n":1}', 'P-1', $3, $4, $5, now())`,
      [id, partnerId, fields.status ?? 'pending', fields.round ?? 0, fields.failedJobAttempts ?? null],
    );
    return id;
  };
  const attempt = (notificationId: string, round: number, statusCode: number): AttemptRecord => ({
    notificationId,
    round,
    jobAttempts: 0,
    at: new Date(),
    callbackUrl: 'https://acme.example/hook',
    statusCode,
    durationMs: 3,
    error: null,
    errorDetail: null,
    responseBody: null,
  });
  const retry: NotificationUpdate = { status: 'pending', statusReason: null, nextAttemptAt: new Date(Date.now() + 60_000) };
  const row = async (id: string) =>
    (
      await db.query(
        `SELECT status, status_reason, attempt_count, round_attempts, parked_at, failed_job_attempts,
                (SELECT array_agg(attempt ORDER BY attempt) FROM delivery_attempts WHERE notification_id = n.id) AS attempts
           FROM notifications n WHERE id = $1`,
        [id],
      )
    ).rows[0];

  it('loads the notification with its callback, and its payload text only when asked', async () => {
    const id = await pending();
    const [withPayload, withoutPayload, missing] = await Promise.all([
      deliveries.load(id, true),
      deliveries.load(id, false),
      deliveries.load(randomUUID(), true),
    ]);
    expect(withPayload).toMatchObject({
      notificationId: id,
      partnerId,
      notificationTypeId: 5,
      payloadText: '{"processUniqueId":"P-1","n":1}',
      status: 'pending',
      deliveryRound: 0,
      callback: { url: 'https://acme.example/hook', enabled: true, signingSecretEncrypted: 'sealed' },
    });
    expect(withoutPayload?.payloadText).toBe('');
    expect(missing).toBeNull();
  });

  it('moves the notification on only in its own round; an attempt of a stale round is logged and changes nothing else', async () => {
    const id = await pending({ round: 1 });
    expect(await deliveries.recordAttempt(attempt(id, 0, 500), retry)).toBe(false);
    expect(await row(id)).toMatchObject({ status: 'pending', attempt_count: 1, round_attempts: 0, attempts: [1] });
    expect(await deliveries.recordAttempt(attempt(id, 1, 200), { status: 'delivered', statusReason: null, nextAttemptAt: null })).toBe(
      true,
    );
    expect(await row(id)).toMatchObject({ status: 'delivered', attempt_count: 2, round_attempts: 1, attempts: [1, 2] });
    // Finished: a late attempt of the same round is only logged.
    expect(await deliveries.recordAttempt(attempt(id, 1, 500), retry)).toBe(false);
    expect(await row(id)).toMatchObject({ status: 'delivered', attempt_count: 3, attempts: [1, 2, 3] });
  });

  it('numbers attempts recorded at once, and two attempts of one notification in one batch, without a gap or a repeat', async () => {
    const ids = await Promise.all([pending(), pending(), pending()]);
    // Submitted in one turn of the event loop: one batch, with ids[0] twice.
    const applied = await Promise.all([
      deliveries.recordAttempt(attempt(ids[0], 0, 500), retry),
      deliveries.recordAttempt(attempt(ids[1], 0, 500), retry),
      deliveries.recordAttempt(attempt(ids[0], 0, 503), retry),
      deliveries.recordAttempt(attempt(ids[2], 0, 500), retry),
    ]);
    expect(applied).toEqual([true, true, true, true]);
    expect(await row(ids[0])).toMatchObject({ attempt_count: 2, round_attempts: 2, attempts: [1, 2] });
    expect(await row(ids[1])).toMatchObject({ attempt_count: 1, attempts: [1] });
    // And from many batches at once.
    await Promise.all(Array.from({ length: 20 }, () => deliveries.recordAttempt(attempt(ids[2], 0, 500), retry)));
    expect((await row(ids[2])).attempts).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
  });

  it('reopens only a failed notification, with a fresh round of the schedule', async () => {
    const failed = await pending({ status: 'failed', failedJobAttempts: 1 });
    await db.query(`UPDATE notifications SET status_reason = 'retries_exhausted', round_attempts = 8 WHERE id = $1`, [failed]);
    const delivered = await pending({ status: 'delivered' });
    await deliveries.reopen(failed);
    await deliveries.reopen(delivered);
    expect(await row(failed)).toMatchObject({ status: 'pending', status_reason: null, round_attempts: 0 });
    expect(await row(delivered)).toMatchObject({ status: 'delivered' });
  });

  it('parks a pending notification once (parking it again writes nothing), and an attempt or unpark ends it', async () => {
    const id = await pending();
    const writes = async () =>
      Number((await db.query(`SELECT xmin::text::bigint AS version FROM notifications WHERE id = $1`, [id])).rows[0].version);
    await deliveries.park(id, 0);
    const parked = await row(id);
    expect(parked.parked_at).not.toBeNull();
    const version = await writes();
    await deliveries.park(id, 0);
    expect(await writes()).toBe(version);
    expect((await row(id)).parked_at).toEqual(parked.parked_at);
    expect(await deliveries.recordAttempt(attempt(id, 0, 500), retry)).toBe(true);
    expect((await row(id)).parked_at).toBeNull();

    await deliveries.park(id, 0);
    await deliveries.unpark(id);
    expect((await row(id)).parked_at).toBeNull();
  });

  it('quarantines a crashed delivery only while it is pending in its round, with an attempt saying worker_crash', async () => {
    const id = await pending({ round: 2 });
    expect(await deliveries.quarantine(id, 1, 3)).toBe(false);
    expect(await deliveries.quarantine(id, 2, 3)).toBe(true);
    expect(await row(id)).toMatchObject({ status: 'failed', status_reason: 'worker_crash', failed_job_attempts: 3, attempts: [1] });
    expect(await deliveries.quarantine(id, 2, 3)).toBe(false);
    expect(await deliveries.isPendingInRound(id, 2)).toBe(false);
  });

  it('skips a pending notification of its round only', async () => {
    const id = await pending({ round: 1 });
    await deliveries.skip(id, 0, 'callback_disabled');
    expect(await deliveries.isPendingInRound(id, 1)).toBe(true);
    await deliveries.skip(id, 1, 'callback_disabled');
    expect(await row(id)).toMatchObject({ status: 'skipped', status_reason: 'callback_disabled' });
  });
});
