import { Test, type TestingModule } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { type AppConfig, ConfigModule, type Environment } from '@callbacks/config';
import { LoggingModule, OpsModule } from '@callbacks/observability';
import { DatabaseModule } from '@callbacks/persistence';
import { deliveryJobId, DeliveryQueueModule, DeliveryQueues, intakeInDoubtKey } from '@callbacks/queue';
import { createTestEnvironment, TcpProxy, type TestEnvironment, waitUntil } from '@callbacks/testing';
import { ApiRedis, ApiRedisModule } from '../common/api-redis';
import type { DomainError } from '../common/domain-error';
import { DeliveryScheduler } from './delivery-scheduler';
import { IntakeInDoubt } from './intake-in-doubt';
import { type IncomingNotification, NotificationIntake } from './notification-intake';

/**
 * Intake backpressure against a real PostgreSQL and Redis, asked of NotificationIntake directly.
 * A database stall is a TCP proxy that stops forwarding; a COMMIT whose answer comes late is a
 * deferred constraint trigger that sleeps at COMMIT for the notifications whose process id starts
 * with "slow-" (the commit lands, 2 s after the request's 700 ms deadline).
 */
describe('NotificationIntake (component: backpressure and in-doubt commits)', () => {
  const DEADLINE_MS = 700;
  let environment: TestEnvironment;
  let proxy: TcpProxy;
  let db: Pool;
  const partnerId = randomUUID();
  const opened: TestingModule[] = [];

  async function startIntake(overrides: Partial<AppConfig> = {}): Promise<TestingModule> {
    const config: AppConfig = {
      ...environment.config,
      databaseUrl: environment.databaseUrl.replace(/:\d+\//, `:${proxy.port}/`),
      intakeTimeoutMs: DEADLINE_MS,
      ...overrides,
    };
    const moduleRef = await Test.createTestingModule({
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
    opened.push(moduleRef);
    return moduleRef;
  }

  beforeAll(async () => {
    environment = await createTestEnvironment({ DATABASE_STATEMENT_TIMEOUT_MS: '30000' } satisfies Environment);
    const url = new URL(environment.databaseUrl);
    proxy = await TcpProxy.start(Number(url.port || 5432), url.hostname);
    db = new Pool({ connectionString: environment.databaseUrl, max: 2 });
    await db.query(`INSERT INTO partners (id, name) VALUES ($1, 'Acme')`, [partnerId]);
    await db.query(
      `INSERT INTO callbacks (id, partner_id, notification_type_id, callback_url, signing_secret_encrypted) VALUES ($1, $2, 5, 'https://acme.example/hook', 'sealed')`,
      [randomUUID(), partnerId],
    );
    await db.query(`
      CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.process_unique_id LIKE 'slow-%' THEN PERFORM pg_sleep(2); END IF; RETURN NULL; END $$;
      CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON notifications DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION slow_commit();`);
  });
  afterEach(async () => {
    proxy.resume();
    for (const moduleRef of opened.splice(0)) await moduleRef.close();
  });
  afterAll(async () => {
    await db.end();
    await proxy.close();
    await environment.destroy();
  });

  const event = (processUniqueId: string, key?: string): IncomingNotification => ({
    partnerId,
    notificationTypeId: 5,
    payload: { processUniqueId },
    payloadText: JSON.stringify({ processUniqueId }),
    test: false,
    requireCallback: false,
    idempotency: key === undefined ? undefined : { caller: 'operator', key, field: 'Idempotency-Key' },
  });
  const storedIds = async (processUniqueId: string): Promise<string[]> =>
    (await db.query(`SELECT id FROM notifications WHERE process_unique_id = $1`, [processUniqueId])).rows.map(
      (row: { id: string }) => row.id,
    );
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => null,
      (error: DomainError) => ({ status: error.status, code: error.code, retryAfter: error.headers['Retry-After'] }),
    );
  const inDoubtFields = async (moduleRef: TestingModule): Promise<Record<string, string>> =>
    moduleRef.get(ApiRedis).client.hgetall(intakeInDoubtKey(environment.config.queuePrefix));
  const jobExists = async (moduleRef: TestingModule, notificationId: string): Promise<boolean> =>
    (await moduleRef.get(DeliveryQueues).forCallback(partnerId, 5).getJob(deliveryJobId(notificationId, 0))) !== undefined;

  it('answers 503 with Retry-After at once when the queue holds INTAKE_QUEUE_MAX notifications, and stores nothing of that request', async () => {
    const moduleRef = await startIntake({ intakeQueueMax: 3, intakeTimeoutMs: 10_000 });
    const intake = moduleRef.get(NotificationIntake);
    proxy.pause();
    const held = ['Q-1', 'Q-2', 'Q-3'].map((id) => intake.accept(event(id)));
    expect(await refusal(intake.accept(event('Q-4')))).toEqual({ status: 503, code: 'intake_queue_full', retryAfter: '1' });
    expect(await refusal(intake.acceptAll([event('Q-5')]))).toEqual({ status: 503, code: 'intake_queue_full', retryAfter: '1' });
    proxy.resume();
    const accepted = await Promise.all(held);
    expect(accepted.map((response) => response.status)).toEqual(['pending', 'pending', 'pending']);
    // Answered: the queue has room again.
    expect((await intake.accept(event('Q-6'))).status).toBe('pending');
    expect(await storedIds('Q-4')).toEqual([]);
    expect(await storedIds('Q-5')).toEqual([]);
  });

  it('answers 503 within INTAKE_TIMEOUT_MS when PostgreSQL stalls, and stores nothing once it answers again', async () => {
    const moduleRef = await startIntake();
    const intake = moduleRef.get(NotificationIntake);
    await intake.accept(event('warm-up')); // the pool holds a connection: the stall hits a statement, not the connect
    proxy.pause();
    const started = Date.now();
    const answers = await Promise.all([refusal(intake.accept(event('S-1'))), refusal(intake.acceptAll([event('S-2'), event('S-3')]))]);
    const elapsed = Date.now() - started;
    expect(answers).toEqual([
      { status: 503, code: 'intake_timeout', retryAfter: '5' },
      { status: 503, code: 'intake_timeout', retryAfter: '5' },
    ]);
    expect(elapsed).toBeLessThan(DEADLINE_MS + 3_000);
    proxy.resume();
    // Whatever the stalled transactions still do once PostgreSQL answers, none of it stays.
    await waitUntil(async () => (await intake.accept(event('after'))).status === 'pending', 20_000, 'intake working again');
    await moduleRef.get(IntakeInDoubt).resolve();
    for (const id of ['S-1', 'S-2', 'S-3']) expect(await storedIds(id)).toEqual([]);
  });

  it('deletes a write whose COMMIT landed after its request was answered 503, and never enqueues it', async () => {
    const moduleRef = await startIntake();
    const intake = moduleRef.get(NotificationIntake);
    expect(await refusal(intake.accept(event('slow-1')))).toEqual({ status: 503, code: 'intake_timeout', retryAfter: '5' });
    // Registered before the answer: the reconciler skips it while the commit is in doubt.
    const registered = Object.keys(await inDoubtFields(moduleRef));
    expect(registered).toHaveLength(1);
    const [notificationId] = await waitUntil(
      async () => {
        const ids = await storedIds('slow-1');
        return ids.length > 0 ? ids : undefined;
      },
      10_000,
      'the late commit landing',
    );
    expect(notificationId).toBe(registered[0]);
    expect(await jobExists(moduleRef, notificationId)).toBe(false);
    await moduleRef.get(IntakeInDoubt).resolve();
    expect(await storedIds('slow-1')).toEqual([]);
    expect(await inDoubtFields(moduleRef)).toEqual({});
    expect(await jobExists(moduleRef, notificationId)).toBe(false);
  });

  it('with an Idempotency-Key, a retry that arrives after the late commit adopts it: the same notification, enqueued once, kept', async () => {
    const moduleRef = await startIntake();
    const intake = moduleRef.get(NotificationIntake);
    expect((await refusal(intake.accept(event('slow-2', 'key-adopt'))))?.status).toBe(503);
    const [notificationId] = await waitUntil(
      async () => {
        const ids = await storedIds('slow-2');
        return ids.length > 0 ? ids : undefined;
      },
      10_000,
      'the late commit landing',
    );
    const retried = await intake.accept(event('slow-2', 'key-adopt'));
    expect(retried).toEqual({ notificationId, status: 'pending' });
    expect(await jobExists(moduleRef, notificationId)).toBe(true);
    expect(await inDoubtFields(moduleRef)).toEqual({});
    await moduleRef.get(IntakeInDoubt).resolve();
    expect(await storedIds('slow-2')).toEqual([notificationId]);
  });

  it('with an Idempotency-Key, a retry after the write was deleted writes it anew: one notification in all', async () => {
    const moduleRef = await startIntake();
    const intake = moduleRef.get(NotificationIntake);
    expect((await refusal(intake.accept(event('slow-3', 'key-anew'))))?.status).toBe(503);
    await waitUntil(async () => (await storedIds('slow-3')).length > 0, 10_000, 'the late commit landing');
    await moduleRef.get(IntakeInDoubt).resolve();
    expect(await storedIds('slow-3')).toEqual([]);
    // This retry's own commit is slow too, so give it time.
    const retried = await (await startIntake({ intakeTimeoutMs: 10_000 })).get(NotificationIntake).accept(event('slow-3', 'key-anew'));
    expect(await storedIds('slow-3')).toEqual([retried.notificationId]);
  });
});
