import { Test, type TestingModule } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { ConfigModule } from '@callbacks/config';
import { LoggingModule, OpsModule } from '@callbacks/observability';
import { DatabaseModule } from '@callbacks/persistence';
import { DeliveryQueueModule } from '@callbacks/queue';
import { createTestEnvironment, type TestEnvironment, waitUntil } from '@callbacks/testing';
import { ApiRedisModule } from '../common/api-redis';
import type { DomainError } from '../common/domain-error';
import { DeliveryScheduler } from './delivery-scheduler';
import { IntakeInDoubt } from './intake-in-doubt';
import { requestHash } from './intake-plan';
import { type IncomingNotification, NotificationIntake } from './notification-intake';

/**
 * Intake's idempotency against a real PostgreSQL (and the queue on Redis), asked of NotificationIntake
 * directly: no HTTP. Calls made in one turn of the event loop share one group commit.
 */
describe('NotificationIntake (component: idempotency on PostgreSQL)', () => {
  let environment: TestEnvironment;
  let moduleRef: TestingModule;
  let intake: NotificationIntake;
  let db: Pool;
  const partnerId = randomUUID();

  beforeAll(async () => {
    environment = await createTestEnvironment();
    const { config } = environment;
    moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.register(config),
        LoggingModule.register(config),
        DatabaseModule,
        DeliveryQueueModule.register('producer', config),
        OpsModule,
        ApiRedisModule,
      ],
      providers: [NotificationIntake, DeliveryScheduler, IntakeInDoubt],
    }).compile();
    intake = moduleRef.get(NotificationIntake);
    db = new Pool({ connectionString: environment.databaseUrl, max: 2 });
    await db.query(`INSERT INTO partners (id, name) VALUES ($1, 'Acme')`, [partnerId]);
    await db.query(
      `INSERT INTO callbacks (id, partner_id, notification_type_id, callback_url, signing_secret_encrypted) VALUES ($1, $2, 5, 'https://acme.example/hook', 'sealed')`,
      [randomUUID(), partnerId],
    );
  });
  afterAll(async () => {
    await db.end();
    await moduleRef.close();
    await environment.destroy();
  });

  const event = (key: string | undefined, processUniqueId = 'P-1'): IncomingNotification => ({
    partnerId,
    notificationTypeId: 5,
    payload: { processUniqueId },
    payloadText: JSON.stringify({ processUniqueId }),
    test: false,
    requireCallback: false,
    idempotency: key === undefined ? undefined : { caller: 'operator', key, field: 'Idempotency-Key' },
  });
  const stored = async (key: string) =>
    (
      await db.query(
        `SELECT n.id FROM idempotency_keys k JOIN notifications n ON n.id = k.notification_id WHERE k.caller = 'operator' AND k.key = $1`,
        [key],
      )
    ).rows.map((row: { id: string }) => row.id);
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => null,
      (error: DomainError) => ({ status: error.status, code: error.code }),
    );

  it('replays the first response for the same key and request, and stores one notification', async () => {
    const first = await intake.accept(event('same'));
    expect(first.status).toBe('pending');
    expect(await intake.accept(event('same'))).toEqual(first);
    expect(await stored('same')).toEqual([first.notificationId]);
  });

  it('refuses the same key with another request (422) and stores nothing for it', async () => {
    const first = await intake.accept(event('other'));
    expect(await refusal(intake.accept(event('other', 'P-2')))).toEqual({ status: 422, code: 'idempotency_key_reused' });
    expect(await stored('other')).toEqual([first.notificationId]);
    expect(Number((await db.query(`SELECT count(*) FROM notifications WHERE process_unique_id = 'P-2'`)).rows[0].count)).toBe(0);
  });

  it('answers a key used twice in one group commit once: the same request replays, another is refused', async () => {
    const [a, b, c] = await Promise.allSettled([
      intake.accept(event('grouped')),
      intake.accept(event('grouped')),
      intake.accept(event('grouped', 'P-3')),
    ]);
    expect(a.status === 'fulfilled' && b.status === 'fulfilled' && a.value).toEqual(b.status === 'fulfilled' && b.value);
    expect(c.status === 'rejected' && (c.reason as DomainError).code).toBe('idempotency_key_reused');
    expect(await stored('grouped')).toHaveLength(1);
  });

  it('replays the notification of a transaction that committed the same key while this one was writing', async () => {
    // Another API replica's transaction holds the key, uncommitted: this commit's INSERT waits for it.
    const other = await db.connect();
    const otherId = randomUUID();
    try {
      await other.query('BEGIN');
      await other.query(
        `INSERT INTO notifications (id, partner_id, notification_type_id, payload, process_unique_id, status) VALUES ($1, $2, 5, '{"processUniqueId":"P-1"}', 'P-1', 'pending')`,
        [otherId, partnerId],
      );
      await other.query(
        `INSERT INTO idempotency_keys (caller, key, notification_id, response_status, request_hash) VALUES ('operator', 'raced', $1, 'pending', $2)`,
        [otherId, requestHash(event('raced'))],
      );
      const accepted = intake.accept(event('raced'));
      await waitUntil(
        async () =>
          (
            await db.query(
              `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO idempotency_keys%'`,
            )
          ).rowCount,
        10_000,
        "intake's INSERT waiting for the other transaction",
      );
      await other.query('COMMIT');
      expect(await accepted).toEqual({ notificationId: otherId, status: 'pending' });
    } finally {
      other.release();
    }
    expect(await stored('raced')).toEqual([otherId]);
  });

  it('replaces a key whose window is over with a new notification', async () => {
    const first = await intake.accept(event('expired'));
    await db.query(`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'expired'`);
    const again = await intake.accept(event('expired'));
    expect(again.notificationId).not.toBe(first.notificationId);
    expect(await stored('expired')).toEqual([again.notificationId]);
  });

  it('stores nothing of an all-or-nothing batch that reuses a key for another request', async () => {
    const outcomes = await intake.acceptAll([event(undefined, 'P-B1'), event('batch'), event('batch', 'P-B2')]);
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['accepted', 'accepted', 'refused']);
    expect(await stored('batch')).toEqual([]);
    expect(Number((await db.query(`SELECT count(*) FROM notifications WHERE process_unique_id LIKE 'P-B%'`)).rows[0].count)).toBe(0);
  });
});
