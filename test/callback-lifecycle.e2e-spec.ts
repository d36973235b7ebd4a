import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { freePort, type ReceivedRequest, TestReceiver, waitUntil } from '@callbacks/testing';
import { BUILT_WORKER, startBuiltApp } from './support/processes';
import { ADMIN, type Partner, TestSystem } from './support/system';

jest.setTimeout(90_000);

const OPERATOR_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

interface OperatorEvent {
  webhookId: string;
  receivedAt: number;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/** Every request the operator receiver answered 2xx, verified the way an operator would (the public standardwebhooks package). */
function operatorEvents(receiver: TestReceiver): OperatorEvent[] {
  const verifier = new Webhook(OPERATOR_SECRET);
  return receiver.requests
    .filter((received) => received.answeredStatus !== undefined && received.answeredStatus < 300)
    .map((received: ReceivedRequest) => {
      const body = verifier.verify(received.body, received.headers as Record<string, string>) as Omit<
        OperatorEvent,
        'webhookId' | 'receivedAt'
      >;
      return { ...body, webhookId: String(received.headers['webhook-id']), receivedAt: received.receivedAt };
    });
}

function publish(system: TestSystem, partner: Partner, n: number) {
  return system.http
    .post('/v1/notifications')
    .set(ADMIN)
    .send({ partnerUniqueId: partner.partnerUniqueId, notificationTypeId: 5, payload: { processUniqueId: `p${n}` } })
    .expect(202);
}

async function statuses(
  system: TestSystem,
  partner: Partner,
): Promise<Array<{ id: string; status: string; status_reason: string | null; created_at: Date }>> {
  return (await system.dataSource.query(
    `SELECT id, status, status_reason, created_at FROM notifications WHERE partner_id = $1 ORDER BY seq`,
    [partner.partnerUniqueId],
  )) as Array<{
    id: string;
    status: string;
    status_reason: string | null;
    created_at: Date;
  }>;
}

describe('callback lifecycle: auto-disable, operator events, bulk recovery', () => {
  it('disables a callback failing for CALLBACK_DISABLE_AFTER, tells the operator, skips new events, and recovers everything once after a PUT', async () => {
    const operator = await TestReceiver.start();
    const endpoint = (await TestReceiver.start()).replyAlways(500);
    const system = await TestSystem.start(
      {
        CALLBACK_DISABLE_AFTER: '3s',
        OPERATOR_WEBHOOK_URL: `${operator.url}/operator-events`,
        OPERATOR_WEBHOOK_SECRET: OPERATOR_SECRET,
        OPERATOR_EXHAUSTED_COALESCE: '2s',
        RETRY_SCHEDULE: '150ms,150ms',
        // The circuit stays out of the way here; the last test covers it.
        CIRCUIT_FAILURE_THRESHOLD: '1000',
        // One delivery at a time: the hanging phase below keeps notifications pending for longer than the disable takes.
        CALLBACK_MAX_IN_FLIGHT: '1',
        DELIVERY_TIMEOUT_MS: '800',
      },
      0,
    );
    const workerPort = await freePort();
    const worker = startBuiltApp(BUILT_WORKER, { ...system.environment.env, WORKER_PORT: String(workerPort), LOG_LEVEL: 'info' });
    try {
      await worker.waitForOutput('worker running');
      const partner = await system.createPartner();
      const partnerSecret = await system.registerCallback(partner, 5, endpoint.url);
      const started = new Date(Date.now() - 1_000);

      // Three events that fail for good (500, 500, 500: retries_exhausted) start the failing streak.
      const exhaustedFirst = [];
      for (let n = 0; n < 3; n++) exhaustedFirst.push((await publish(system, partner, n)).body.notificationId as string);
      for (const id of exhaustedFirst) await system.waitForStatus(partner, id, 'failed');
      // Then the endpoint stops answering: ten more, one attempt in flight at a time, 800 ms each. Their
      // 30 attempts take 24 s at least, far past CALLBACK_DISABLE_AFTER (3 s): most are pending at the disable.
      endpoint.replyAlways('hang');
      for (let n = 3; n < 13; n++) await publish(system, partner, n);

      const callback = await waitUntil(
        async () => {
          const { body } = await system.http.get(`/${partner.partnerUniqueId}/callbacks/5`).set(partner.auth).expect(200);
          return body.enabled === false ? body : undefined;
        },
        15_000,
        'the callback to be disabled',
      );
      expect(callback).toMatchObject({ enabled: false, disabledReason: 'failing', lastSuccessAt: null });
      const failingSince = Date.parse(callback.failingSince);
      const disabledAt = Date.parse(callback.disabledAt);
      expect(failingSince).toBeGreaterThanOrEqual(started.getTime());
      // A span, not a count: disabled only once the streak had lasted CALLBACK_DISABLE_AFTER.
      expect(disabledAt - failingSince).toBeGreaterThanOrEqual(3_000);

      const settled = await waitUntil(
        async () => {
          const rows = await statuses(system, partner);
          return rows.every((row) => row.status !== 'pending') ? rows : undefined;
        },
        10_000,
        'every notification to end',
      );
      expect(settled).toHaveLength(13);
      const failed = settled.filter((row) => row.status === 'failed');
      expect(failed).toHaveLength(13);
      const byReason = (reason: string) => failed.filter((row) => row.status_reason === reason).map((row) => row.id);
      expect(byReason('retries_exhausted')).toEqual(expect.arrayContaining(exhaustedFirst));
      // The disable ended the notifications still pending at that moment: failed, callback_disabled, no attempt after it.
      const endedByDisable = byReason('callback_disabled');
      expect(endedByDisable.length).toBeGreaterThan(0);
      expect(byReason('retries_exhausted').length + endedByDisable.length).toBe(13);
      const [{ late_attempts: lateAttempts }] = (await system.dataSource.query(
        `SELECT count(*)::int AS late_attempts FROM delivery_attempts WHERE notification_id = ANY($1::uuid[]) AND at > $2`,
        [endedByDisable, new Date(disabledAt + 1_000)],
      )) as Array<{ late_attempts: number }>;
      expect(lateAttempts).toBe(0);
      // Events accepted after the disable are never attempted: skipped, callback_disabled.
      const { body: late } = await publish(system, partner, 99);
      expect(late.status).toBe('skipped');
      const lateRow = (await statuses(system, partner)).find((row) => row.id === late.notificationId);
      expect(lateRow).toMatchObject({ status: 'skipped', status_reason: 'callback_disabled' });

      // The operator: one callback.disabled; notification.exhausted coalesced (2 s windows here), counting every failure.
      const events = await waitUntil(
        () => {
          const received = operatorEvents(operator);
          const counted = received
            .filter((event) => event.type === 'notification.exhausted')
            .reduce((sum, event) => sum + Number(event.data.count), 0);
          return received.some((event) => event.type === 'callback.disabled') && counted === failed.length ? received : undefined;
        },
        15_000,
        'the operator events',
      );
      const disabledEvents = events.filter((event) => event.type === 'callback.disabled');
      expect(disabledEvents).toHaveLength(1);
      expect(disabledEvents[0].data).toMatchObject({
        partnerUniqueId: partner.partnerUniqueId,
        notificationTypeId: 5,
        callbackUrl: endpoint.url,
        failingSince: callback.failingSince,
        failedNotifications: endedByDisable.length,
      });
      const exhausted = events.filter((event) => event.type === 'notification.exhausted');
      // At least the first failures' event and the disable's: the spacing check below compares real pairs.
      expect(exhausted.length).toBeGreaterThanOrEqual(2);
      expect(exhausted.length).toBeLessThan(failed.length);
      for (let i = 1; i < exhausted.length; i++)
        expect(exhausted[i].receivedAt - exhausted[i - 1].receivedAt).toBeGreaterThanOrEqual(1_500);
      expect(exhausted[0].data).toMatchObject({
        partnerUniqueId: partner.partnerUniqueId,
        notificationTypeId: 5,
        statusCode: 500,
        error: null,
      });
      expect(failed.map((row) => row.id)).toContain(exhausted[0].data.notificationId);
      expect(new Set(events.map((event) => event.webhookId)).size).toBe(events.length);
      expect(events.some((event) => event.type === 'callback.recovered')).toBe(false);

      // The partner fixes the endpoint, re-enables the callback with a PUT and recovers since the start.
      endpoint.replyAlways(200);
      const { body: reenabled } = await system.http
        .put(`/${partner.partnerUniqueId}/callbacks/5`)
        .set(partner.auth)
        .send({ callbackUrl: endpoint.url })
        .expect(200);
      expect(reenabled).toMatchObject({ enabled: true, disabledReason: null, disabledAt: null, failingSince: null });
      const recover = () =>
        system.http.post(`/${partner.partnerUniqueId}/callbacks/5/recover`).set(partner.auth).send({ since: started.toISOString() });
      const [first, second] = [await recover().expect(202), await recover().expect(202)];
      const recoverable = (await statuses(system, partner)).length;
      expect(first.body.recovering + second.body.recovering).toBe(recoverable);
      expect(second.body.recovering).toBe(0);

      const verifier = new Webhook(partnerSecret);
      const ids = settled.map((row) => row.id).concat(late.notificationId);
      await waitUntil(
        () => ids.every((id) => endpoint.deliveriesOf(id).some((delivery) => delivery.answeredStatus === 200)),
        15_000,
        'every recovered notification to arrive',
      );
      await waitUntil(
        async () => (await statuses(system, partner)).every((row) => row.status === 'delivered'),
        5_000,
        'every notification to be delivered',
      );
      await recover().expect(202, { recovering: 0 });
      // Nothing pending, no job left: no further delivery can happen, so the counts below are final.
      await system.waitUntilSettled();
      for (const id of ids) {
        const delivered = endpoint.deliveriesOf(id).filter((delivery) => delivery.answeredStatus === 200);
        expect(delivered).toHaveLength(1);
        verifier.verify(delivered[0].body, delivered[0].headers as Record<string, string>);
      }
      const { body: healthy } = await system.http.get(`/${partner.partnerUniqueId}/callbacks/5`).set(partner.auth).expect(200);
      await waitUntil(
        async () => (await system.http.get(`/${partner.partnerUniqueId}/callbacks/5`).set(partner.auth)).body.lastSuccessAt !== null,
        5_000,
        'lastSuccessAt',
      );
      expect(healthy.failingSince).toBeNull();

      const workerMetrics = (await request(`http://127.0.0.1:${workerPort}`).get('/metrics').expect(200)).text;
      expect(workerMetrics).toMatch(/^webhook_callbacks_disabled_total 1$/m);
      expect(workerMetrics).toMatch(/^webhook_operator_events_total\{type="callback.disabled",outcome="delivered"\} 1$/m);
      expect(workerMetrics).toMatch(/^webhook_operator_events_total\{type="notification.exhausted",outcome="coalesced"\} [1-9]/m);
      const apiMetrics = (await system.http.get('/metrics').expect(200)).text;
      expect(apiMetrics).toMatch(new RegExp(`^webhook_notifications_recovered_total\\{type="status.changed"\\} ${recoverable}$`, 'm'));
      expect(apiMetrics).toMatch(/^webhook_recovery_requests_total\{scope="callback"\} 3$/m);
    } finally {
      await worker.stop();
      await endpoint.close();
      await operator.close();
      await system.close();
    }
  });

  it('disables a callback at once when its endpoint answers 410 Gone: one attempt, the operator told, its parked backlog ended', async () => {
    // The operator's own endpoint answers 410 once too: for operator events that is a failure to retry, not a disable.
    const operator = (await TestReceiver.start()).replyWith(410);
    let answerGone: (() => void) | undefined;
    const endpoint = (await TestReceiver.start()).replyWith((_, response) => {
      answerGone = () => response.writeHead(410).end('gone');
    });
    const system = await TestSystem.start({
      OPERATOR_WEBHOOK_URL: operator.url,
      OPERATOR_WEBHOOK_SECRET: OPERATOR_SECRET,
      RETRY_SCHEDULE: '150ms,150ms,150ms',
      // One delivery at a time: the notifications published while the first is in flight park behind it.
      CALLBACK_MAX_IN_FLIGHT: '1',
      DELIVERY_TIMEOUT_MS: '10000',
    });
    try {
      const partner = await system.createPartner();
      await system.registerCallback(partner, 5, endpoint.url);
      const { body: first } = await publish(system, partner, 0);
      await endpoint.waitFor(1);
      const backlog: string[] = [];
      for (let n = 1; n <= 5; n++) backlog.push((await publish(system, partner, n)).body.notificationId as string);
      await waitUntil(
        async () => {
          const [{ parked }] = (await system.dataSource.query(
            `SELECT count(*)::int AS parked FROM notifications WHERE id = ANY($1::uuid[]) AND parked_at IS NOT NULL`,
            [backlog],
          )) as Array<{ parked: number }>;
          return parked === backlog.length;
        },
        10_000,
        'the backlog to park behind the first delivery',
      );
      answerGone!();

      const callback = await waitUntil(
        async () => {
          const { body } = await system.http.get(`/${partner.partnerUniqueId}/callbacks/5`).set(partner.auth).expect(200);
          return body.enabled === false ? body : undefined;
        },
        10_000,
        'the callback to be disabled',
      );
      expect(callback).toMatchObject({ enabled: false, disabledReason: 'gone' });
      expect(callback.disabledAt).not.toBeNull();
      await system.waitUntilSettled();
      // One attempt in all: the 410'd notification ends failed (callback_gone), the backlog failed (callback_disabled) unsent.
      expect(endpoint.requests).toHaveLength(1);
      const rows = await statuses(system, partner);
      expect(rows.find((row) => row.id === first.notificationId)).toMatchObject({ status: 'failed', status_reason: 'callback_gone' });
      expect(rows.filter((row) => backlog.includes(row.id)).map((row) => [row.status, row.status_reason])).toEqual(
        backlog.map(() => ['failed', 'callback_disabled']),
      );
      const detail = await system.notification(partner, first.notificationId);
      expect(detail.attempts).toMatchObject([{ attempt: 1, statusCode: 410 }]);
      // Events accepted after the disable are never attempted: skipped, callback_disabled.
      const { body: late } = await publish(system, partner, 99);
      expect(late.status).toBe('skipped');

      const events = await waitUntil(
        () => {
          const received = operatorEvents(operator);
          return received.some((event) => event.type === 'callback.disabled') &&
            received.some((event) => event.type === 'notification.exhausted')
            ? received
            : undefined;
        },
        10_000,
        'the operator events',
      );
      expect(events.filter((event) => event.type === 'callback.disabled').map((event) => event.data)).toEqual([
        {
          partnerUniqueId: partner.partnerUniqueId,
          notificationTypeId: 5,
          callbackUrl: endpoint.url,
          disabledReason: 'gone',
          failingSince: expect.any(String),
          failedNotifications: backlog.length,
        },
      ]);
      expect(events.filter((event) => event.type === 'notification.exhausted').map((event) => event.data)).toEqual([
        {
          partnerUniqueId: partner.partnerUniqueId,
          notificationTypeId: 5,
          notificationId: first.notificationId,
          statusReason: 'callback_gone',
          statusCode: 410,
          error: null,
          count: backlog.length + 1,
        },
      ]);
      // The operator endpoint's 410 was retried: the same event came again and was delivered.
      const goneAtOperator = operator.requests.filter((received) => received.answeredStatus === 410);
      expect(goneAtOperator).toHaveLength(1);
      expect(events.map((event) => event.webhookId)).toContain(String(goneAtOperator[0].headers['webhook-id']));

      // A PUT re-enables it, like a callback disabled for failing.
      const { body: reenabled } = await system.http
        .put(`/${partner.partnerUniqueId}/callbacks/5`)
        .set(partner.auth)
        .send({ callbackUrl: endpoint.url })
        .expect(200);
      expect(reenabled).toMatchObject({ enabled: true, disabledReason: null, disabledAt: null });
    } finally {
      await endpoint.close();
      await operator.close();
      await system.close();
    }
  });

  it('a 410 from the URL a partner has just moved away from does not disable the callback at its new URL', async () => {
    let answerGone: (() => void) | undefined;
    const old = (await TestReceiver.start()).replyWith((_, response) => {
      answerGone = () => response.writeHead(410).end('gone');
    });
    const moved = (await TestReceiver.start()).replyAlways(200);
    const system = await TestSystem.start({ RETRY_SCHEDULE: '150ms,150ms,150ms', DELIVERY_TIMEOUT_MS: '10000' });
    try {
      const partner = await system.createPartner();
      await system.registerCallback(partner, 5, old.url);
      await publish(system, partner, 0);
      await old.waitFor(1);
      // The partner moves the callback while a delivery to the old URL is in flight; the old URL then answers 410.
      await system.http.put(`/${partner.partnerUniqueId}/callbacks/5`).set(partner.auth).send({ callbackUrl: moved.url }).expect(200);
      answerGone!();
      await system.waitUntilSettled();
      const { body: callback } = await system.http.get(`/${partner.partnerUniqueId}/callbacks/5`).set(partner.auth).expect(200);
      expect(callback).toMatchObject({ enabled: true, disabledReason: null, callbackUrl: moved.url });
      const { body: next } = await publish(system, partner, 1);
      await system.waitForStatus(partner, next.notificationId, 'delivered');
      expect(moved.requests.map((request) => request.headers['webhook-id'])).toContain(next.notificationId);
    } finally {
      await old.close();
      await moved.close();
      await system.close();
    }
  });

  it('tells the operator callback.recovered on the first success after the circuit opened, retrying the operator event like a delivery', async () => {
    const operator = (await TestReceiver.start()).replyWith(503);
    const endpoint = (await TestReceiver.start()).replyWith(500, 500, 500);
    const system = await TestSystem.start({
      OPERATOR_WEBHOOK_URL: operator.url,
      OPERATOR_WEBHOOK_SECRET: OPERATOR_SECRET,
      CIRCUIT_FAILURE_THRESHOLD: '2',
      CIRCUIT_OPEN_MS: '400',
      // Steps of 200 ms (±10 %) against an open time of 400 ms: after each failed probe one to three
      // attempts fall due while the circuit is open. Ten steps leave room for the third 500 to be a
      // probe's and the next probe to succeed; five ran out once in this stop's runs (the last step
      // fell a few milliseconds before the circuit's end, and the notification failed).
      RETRY_SCHEDULE: Array(10).fill('200ms').join(','),
    });
    try {
      const partner = await system.createPartner();
      await system.registerCallback(partner, 6, endpoint.url);
      const { body } = await system.http
        .post('/v1/notifications')
        .set(ADMIN)
        .send({ partnerUniqueId: partner.partnerUniqueId, notificationTypeId: 6, payload: { simulationUniqueId: 's1' } })
        .expect(202);
      await system.waitForStatus(partner, body.notificationId, 'delivered', 15_000);

      const [recovered] = await waitUntil(
        () => {
          const received = operatorEvents(operator).filter((event) => event.type === 'callback.recovered');
          return received.length > 0 ? received : undefined;
        },
        15_000,
        'callback.recovered',
      );
      expect(recovered.data).toMatchObject({ partnerUniqueId: partner.partnerUniqueId, notificationTypeId: 6, callbackUrl: endpoint.url });
      expect(Date.parse(String(recovered.data.recoveredAt))).toBeGreaterThan(Date.parse(String(recovered.data.circuitOpenedAt)));
      // The operator answered 503 first: the same event (same webhook-id) came again, and both attempts are logged.
      expect(operator.requests.filter((received) => received.headers['webhook-id'] === recovered.webhookId)).toHaveLength(2);
      const attempts = await waitUntil(
        async () => {
          const rows = (await system.dataSource.query(
            `SELECT attempt, status_code FROM operator_event_attempts WHERE event_id = $1 ORDER BY attempt`,
            [recovered.webhookId],
          )) as Array<{
            attempt: number;
            status_code: number;
          }>;
          return rows.length >= 2 ? rows : undefined;
        },
        5_000,
        'both operator event attempts to be logged',
      );
      expect(attempts).toEqual([
        { attempt: 1, status_code: 503 },
        { attempt: 2, status_code: 200 },
      ]);
      expect(operatorEvents(operator).filter((event) => event.type === 'callback.disabled')).toHaveLength(0);
      const { body: callback } = await system.http.get(`/${partner.partnerUniqueId}/callbacks/6`).set(partner.auth).expect(200);
      expect(callback).toMatchObject({ enabled: true, disabledReason: null, failingSince: null });
      expect(callback.lastSuccessAt).not.toBeNull();

      // Durable: an event in PostgreSQL whose job Redis never had (or lost) is sent by the reconciler.
      const [{ id }] = (await system.dataSource.query(
        `INSERT INTO operator_events (id, type, data, updated_at) VALUES (gen_random_uuid(), 'callback.disabled', $1, now() - interval '1 minute') RETURNING id`,
        [
          JSON.stringify({
            partnerUniqueId: partner.partnerUniqueId,
            notificationTypeId: 6,
            callbackUrl: endpoint.url,
            failingSince: new Date().toISOString(),
            failedNotifications: 0,
          }),
        ],
      )) as Array<{ id: string }>;
      const [reconciled] = await waitUntil(
        () => {
          const received = operatorEvents(operator).filter((event) => event.webhookId === id);
          return received.length > 0 ? received : undefined;
        },
        10_000,
        'the reconciler to send the orphaned operator event',
      );
      expect(reconciled.type).toBe('callback.disabled');
    } finally {
      await endpoint.close();
      await operator.close();
      await system.close();
    }
  });
});

describe('bulk recovery: the API', () => {
  let system: TestSystem;
  let partner: Partner;

  beforeAll(async () => {
    system = await TestSystem.start({}, 0);
    partner = await system.createPartner();
    await system.registerCallback(partner, 5, 'https://partner.example.com/five');
    await system.registerCallback(partner, 6, 'https://partner.example.com/six');
  });

  afterAll(() => system.close());

  /** Adds `count` notifications of a type directly, created one second apart going back from `anchor`. */
  async function seed(typeId: number, count: number, status: string, statusReason: string | null, anchor = new Date()): Promise<void> {
    await system.dataSource.query(
      `INSERT INTO notifications (id, partner_id, notification_type_id, payload, status, status_reason, created_at)
       SELECT gen_random_uuid(), $1, $2, '{"processUniqueId":"p"}', $3, $4, $6::timestamptz - make_interval(secs => i) FROM generate_series(1, $5) AS i`,
      [partner.partnerUniqueId, typeId, status, statusReason, count, anchor],
    );
  }

  const recover = (body: object, path = `/${partner.partnerUniqueId}/callbacks/5/recover`, auth = partner.auth) =>
    system.http.post(path).set(auth).send(body);

  it.each([
    [{}, 'since'],
    [{ since: 'yesterday' }, 'since'],
    [{ since: new Date(Date.now() - 31 * 86_400_000).toISOString() }, 'since'],
    [{ since: new Date(Date.now() - 3_600_000).toISOString(), until: new Date(Date.now() - 7_200_000).toISOString() }, 'until'],
    [{ since: new Date().toISOString(), force: true }, 'force'],
  ])('refuses %p with a 400 naming %s', async (body, field) => {
    const response = await recover(body).expect(400);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(response.body.errors.map((error: { field: string }) => error.field)).toContain(field);
  });

  it('answers 404 without a callback, 403 for another partner, and 409 while the partner has disabled the callback', async () => {
    const since = new Date(Date.now() - 60_000).toISOString();
    await recover({ since }, `/${partner.partnerUniqueId}/callbacks/7/recover`).expect(404);
    const other = await system.createPartner('Other');
    await recover({ since }, `/${partner.partnerUniqueId}/callbacks/5/recover`, other.auth).expect(403);
    await recover({ since }, `/admin/partners/${partner.partnerUniqueId}/recover`).expect(403);

    await system.http
      .put(`/${partner.partnerUniqueId}/callbacks/6`)
      .set(partner.auth)
      .send({ callbackUrl: 'https://partner.example.com/six', enabled: false })
      .expect(200);
    const { body: disabled } = await system.http.get(`/${partner.partnerUniqueId}/callbacks/6`).set(partner.auth).expect(200);
    expect(disabled).toMatchObject({ enabled: false, disabledReason: 'partner' });
    expect(disabled.disabledAt).not.toBeNull();
    const conflict = await recover({ since }, `/${partner.partnerUniqueId}/callbacks/6/recover`).expect(409);
    expect(conflict.body.code).toBe('callback_disabled');
    await system.http
      .put(`/${partner.partnerUniqueId}/callbacks/6`)
      .set(partner.auth)
      .send({ callbackUrl: 'https://partner.example.com/six' })
      .expect(200);
  });

  it('refuses more than 10,000 notifications with a 422 that changes nothing, and takes a narrower window', async () => {
    const anchor = new Date();
    await seed(5, 10_001, 'failed', 'retries_exhausted', anchor);
    const tooMany = await recover({ since: new Date(Date.now() - 4 * 3_600_000).toISOString() }).expect(422);
    expect(tooMany.body).toMatchObject({ code: 'recovery_window_too_large' });
    expect(tooMany.body.detail).toMatch(/narrow/);
    const [{ n }] = (await system.dataSource.query(
      `SELECT count(*)::int AS n FROM notifications WHERE partner_id = $1 AND status = 'failed'`,
      [partner.partnerUniqueId],
    )) as Array<{ n: number }>;
    expect(n).toBe(10_001);

    const { body } = await recover({
      since: new Date(anchor.getTime() - 100_500).toISOString(),
      until: new Date(anchor.getTime() - 500).toISOString(),
    }).expect(202);
    expect(body).toEqual({ recovering: 100 });
    const [{ pending }] = (await system.dataSource.query(
      `SELECT count(*)::int AS pending FROM notifications WHERE partner_id = $1 AND status = 'pending'`,
      [partner.partnerUniqueId],
    )) as Array<{
      pending: number;
    }>;
    expect(pending).toBe(body.recovering);
  });

  it('recovers every enabled callback of a partner with the operator route, failed and skipped-because-disabled alike', async () => {
    await system.dataSource.query(`DELETE FROM notifications WHERE partner_id = $1`, [partner.partnerUniqueId]);
    await seed(5, 3, 'failed', 'retries_exhausted');
    await seed(6, 2, 'skipped', 'callback_disabled');
    await seed(6, 4, 'skipped', 'no_callback');
    await seed(6, 1, 'delivered', null);
    const { body } = await recover(
      { since: new Date(Date.now() - 3_600_000).toISOString() },
      `/admin/partners/${partner.partnerUniqueId}/recover`,
      ADMIN,
    ).expect(202);
    expect(body).toEqual({ recovering: 5 });
    const { body: again } = await recover(
      { since: new Date(Date.now() - 3_600_000).toISOString() },
      `/admin/partners/${partner.partnerUniqueId}/recover`,
      ADMIN,
    ).expect(202);
    expect(again).toEqual({ recovering: 0 });
  });

  it('documents the new fields and routes in the OpenAPI document', async () => {
    const { body } = await system.http.get('/docs-json').expect(200);
    expect(Object.keys(body.components.schemas.CallbackDto.properties)).toEqual(
      expect.arrayContaining(['disabledReason', 'disabledAt', 'failingSince', 'lastSuccessAt']),
    );
    expect(body.paths['/{partnerUniqueID}/callbacks/{notificationType}/recover'].post.responses).toHaveProperty('422');
    expect(body.paths['/admin/partners/{partnerUniqueID}/recover'].post.responses).toHaveProperty('202');
  });
});
