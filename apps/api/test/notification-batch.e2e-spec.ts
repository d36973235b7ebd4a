import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { DELIVERY_QUEUE } from '@callbacks/queue';
import { ADMIN, type ApiTestApp, expectProblem, startApiTestApp, type TestPartner } from './api-test-app';

describe('platform events: the batch intake and group commit', () => {
  let api: ApiTestApp;
  let queue: Queue;
  let withCallback: TestPartner;
  let withoutCallback: TestPartner;

  beforeAll(async () => {
    api = await startApiTestApp({ ALLOW_INSECURE_CALLBACKS: 'true' });
    queue = api.app.get<Queue>(getQueueToken(DELIVERY_QUEUE));
    withCallback = await api.createPartner('With callback');
    withoutCallback = await api.createPartner('Without callback');
    await api.http
      .put(`/${withCallback.partnerUniqueId}/callbacks/5`)
      .set(withCallback.auth)
      .send({ callbackUrl: 'http://127.0.0.1:9/hooks' })
      .expect(201);
  });
  afterAll(() => api.close());

  const batch = (body: string | object, auth: Record<string, string> = ADMIN) =>
    api.http.post('/v1/notifications/batch').set(auth).set('Content-Type', 'application/json').send(body);
  const item = (partner: TestPartner, processUniqueId: string, extra: object = {}) => ({
    partnerUniqueId: partner.partnerUniqueId,
    notificationTypeId: 5,
    payload: { processUniqueId },
    ...extra,
  });
  const storedPayload = async (id: string) =>
    (
      (await api.dataSource.query('SELECT payload::text AS payload FROM notifications WHERE id = $1', [id])) as Array<{ payload: string }>
    )[0]?.payload;

  it('accepts 1 to 500 notifications in one request and answers each, in order, with the payload text kept byte for byte', async () => {
    const payloads = [
      '{ "processUniqueId" : "B-1", "amount": 12345678901234567890123 }',
      '{"simulationUniqueId":"S-2","rate":1.50E+1}',
      '{"processUniqueId":"B-3","d":1,"d":2}',
    ];
    const body =
      `{"notifications":[` +
      `{"partnerUniqueId":"${withCallback.partnerUniqueId}","notificationTypeId":5,"payload":${payloads[0]}},` +
      ` {"payload": ${payloads[1]}, "notificationTypeId":5,"partnerUniqueId":"${withoutCallback.partnerUniqueId}"} ,` +
      `{"partnerUniqueId":"${withCallback.partnerUniqueId.toUpperCase()}","notificationTypeId":5,"payload":${payloads[2]}}]}`;
    const response = await batch(body).expect(202);
    const results = response.body.results as Array<{ notificationId: string; status: string }>;
    expect(results.map((result) => result.status)).toEqual(['pending', 'skipped', 'pending']);
    expect(new Set(results.map((result) => result.notificationId)).size).toBe(3);
    for (const [index, result] of results.entries()) expect(await storedPayload(result.notificationId)).toBe(payloads[index]);
    expect(await queue.getJob(results[0].notificationId)).toBeDefined();
    expect(await queue.getJob(results[1].notificationId)).toBeUndefined();
    expect((await queue.getJob(results[2].notificationId))?.data).toMatchObject({
      partnerUniqueId: withCallback.partnerUniqueId,
      notificationTypeId: 5,
    });
  });

  it('validates every item before storing anything, naming notifications[i].<field> for each bad one', async () => {
    const before = await api.tableCounts();
    // The whole body is inspected for NUL characters (and depth, and prototype keys) before the items.
    const nul = expectProblem(
      await batch({ notifications: [item(withCallback, 'OK-1'), item(withCallback, 'nul\u0000')] }),
      400,
      'validation_failed',
    );
    expect(nul.errors).toEqual([{ field: 'notifications[1].payload.processUniqueId', message: 'must not contain NUL characters' }]);
    const fields = expectProblem(
      await batch({
        notifications: [
          item(withCallback, 'OK-1'),
          { ...item(withCallback, 'OK-2'), partnerUniqueId: 'not-a-uuid' },
          item(withCallback, 'OK-3'),
          {
            partnerUniqueId: withCallback.partnerUniqueId,
            notificationTypeId: 5,
            payload: { processUniqueId: 'P', simulationUniqueId: 'S' },
          },
          { ...item(withCallback, 'OK-5'), notificationTypeId: 9 },
          { ...item(withCallback, 'OK-6'), colour: 'red' },
          { ...item(withCallback, 'OK-7'), idempotencyKey: 'has space' },
          'not an object',
        ],
      }),
      400,
      'validation_failed',
    ).errors!.map((error) => error.field);
    expect(fields).toEqual([
      'notifications[1].partnerUniqueId',
      'notifications[3].payload.processUniqueId',
      'notifications[4].notificationTypeId',
      'notifications[5].colour',
      'notifications[6].idempotencyKey',
      'notifications[7]',
    ]);
    expect(await api.tableCounts()).toEqual(before);
  });

  it('refuses an empty batch and one of 501 items (400 naming notifications), and a body without notifications', async () => {
    const before = await api.tableCounts();
    for (const notifications of [[], Array.from({ length: 501 }, (_, i) => item(withCallback, `P-${i}`))]) {
      const problem = expectProblem(await batch({ notifications }), 400, 'validation_failed');
      expect(problem.errors?.map((error) => error.field)).toEqual(['notifications']);
    }
    expectProblem(await batch({ events: [] }), 400, 'validation_failed');
    expect(await api.tableCounts()).toEqual(before);
    const full = await batch({ notifications: Array.from({ length: 500 }, (_, i) => item(withCallback, `FULL-${i}`)) }).expect(202);
    expect(full.body.results).toHaveLength(500);
  });

  it('is described in the OpenAPI document, with its problem+json answers and the bearer key', async () => {
    const docs = await api.http.get('/docs-json').expect(200);
    const operation = docs.body.paths['/v1/notifications/batch'].post;
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['202', '400', '401', '403', '404', '413', '415', '422']));
    expect(Object.keys(operation.responses['422'].content)).toEqual(['application/problem+json']);
    expect(operation.security).toEqual([{ bearer: [] }]);
    expect(docs.body.components.schemas.PublishNotificationBatchItemDto.properties.idempotencyKey).toBeDefined();
    expect(docs.body.components.schemas.PublishNotificationBatchDto.properties.notifications.maxItems).toBe(500);
  });

  it('is for the operator only: a partner key is 403, no key 401', async () => {
    expectProblem(await batch({ notifications: [item(withCallback, 'P')] }, withCallback.auth), 403, 'forbidden');
    expectProblem(await batch({ notifications: [item(withCallback, 'P')] }, {}), 401, 'unauthorized');
  });

  it('stores nothing when one item names a partner that does not exist (404) or holds more than 10,000 values (422)', async () => {
    const before = await api.tableCounts();
    const missing = expectProblem(
      await batch({
        notifications: [
          item(withCallback, 'P-1'),
          { ...item(withCallback, 'P-2'), partnerUniqueId: '00000000-0000-4000-8000-000000000000' },
        ],
      }),
      404,
      'partner_not_found',
    );
    expect(missing.errors).toEqual([{ field: 'notifications[1].partnerUniqueId', message: expect.any(String) }]);
    expect(missing.detail).toMatch(/^notifications\[1\]: /);
    const values = Array.from({ length: 10_000 }, () => '0').join(',');
    const body = `{"notifications":[${JSON.stringify(item(withCallback, 'P-1'))},{"partnerUniqueId":"${withCallback.partnerUniqueId}","notificationTypeId":5,"payload":{"processUniqueId":"P","v":[${values}]}}]}`;
    const complex = expectProblem(await batch(body), 422, 'payload_too_complex');
    expect(complex.errors).toEqual([{ field: 'notifications[1].payload', message: expect.stringContaining('10000') }]);
    expect(await api.tableCounts()).toEqual(before);
  });

  it('replays items by idempotency key; a key reused for another request is 422 for the whole batch, naming the item', async () => {
    const keyed = [
      item(withCallback, 'K-1', { idempotencyKey: 'batch-key-1' }),
      item(withoutCallback, 'K-2', { idempotencyKey: 'batch-key-2' }),
      item(withCallback, 'K-3'),
    ];
    const first = await batch({ notifications: keyed }).expect(202);
    const afterFirst = await api.tableCounts();

    // The same keyed items again: their first answers; the unkeyed one is new.
    const again = await batch({ notifications: keyed }).expect(202);
    expect(again.body.results.slice(0, 2)).toEqual(first.body.results.slice(0, 2));
    expect(again.body.results[2].notificationId).not.toBe(first.body.results[2].notificationId);
    expect((await api.tableCounts()).notifications).toBe(afterFirst.notifications + 1);

    // The same key as the header uses for its caller: a batch item's key and the header share one scope.
    const header = await api.http
      .post('/v1/notifications')
      .set(ADMIN)
      .set('Idempotency-Key', 'batch-key-1')
      .send(item(withCallback, 'K-1'))
      .expect(202);
    expect(header.body).toEqual(first.body.results[0]);

    const before = await api.tableCounts();
    const reused = expectProblem(
      await batch({ notifications: [item(withCallback, 'NEW-1'), item(withCallback, 'K-1-changed', { idempotencyKey: 'batch-key-1' })] }),
      422,
      'idempotency_key_reused',
    );
    expect(reused.errors).toEqual([{ field: 'notifications[1].idempotencyKey', message: 'was already used for a different request' }]);
    // One key twice in one batch: the same request replays within the batch, another is refused.
    const twice = await batch({
      notifications: [item(withCallback, 'T-1', { idempotencyKey: 'twice' }), item(withCallback, 'T-1', { idempotencyKey: 'twice' })],
    }).expect(202);
    expect(twice.body.results[1]).toEqual(twice.body.results[0]);
    const beforeConflict = await api.tableCounts();
    expectProblem(
      await batch({
        notifications: [item(withCallback, 'C-1', { idempotencyKey: 'clash' }), item(withCallback, 'C-2', { idempotencyKey: 'clash' })],
      }),
      422,
      'idempotency_key_reused',
    );
    expect(await api.tableCounts()).toEqual(beforeConflict);
    expect(before.notifications + 1).toBe(beforeConflict.notifications);
  });

  it('group commit: concurrent single publishes each get their own row and job, and every 202 comes after its commit', async () => {
    const count = 60;
    const visibleAtAnswer = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const response = await api.http
          .post('/v1/notifications')
          .set(ADMIN)
          .send(item(i % 2 ? withCallback : withoutCallback, `G-${i}`));
        expect(response.status).toBe(202);
        // Read at once on another connection: the row must already be committed.
        const rows = (await api.dataSource.query('SELECT status FROM notifications WHERE id = $1', [
          response.body.notificationId,
        ])) as Array<{ status: string }>;
        return { ...response.body, stored: rows[0]?.status, job: Boolean(await queue.getJob(response.body.notificationId)) } as {
          notificationId: string;
          status: string;
          stored?: string;
          job: boolean;
        };
      }),
    );
    expect(new Set(visibleAtAnswer.map((answer) => answer.notificationId)).size).toBe(count);
    for (const answer of visibleAtAnswer) {
      expect(answer.stored).toBe(answer.status);
      expect(answer.job).toBe(answer.status === 'pending');
    }
    expect(visibleAtAnswer.filter((answer) => answer.status === 'pending')).toHaveLength(count / 2);
  });

  it('group commit keeps idempotency exact: concurrent requests with one key yield one notification; a bad one is refused alone', async () => {
    const before = (await api.tableCounts()).notifications;
    const send = (key: string, processUniqueId: string, partnerUniqueId = withCallback.partnerUniqueId) =>
      api.http
        .post('/v1/notifications')
        .set(ADMIN)
        .set('Idempotency-Key', key)
        .send({ partnerUniqueId, notificationTypeId: 5, payload: { processUniqueId } });
    const responses = await Promise.all([
      ...Array.from({ length: 10 }, () => send('concurrent-key', 'SAME')),
      send('concurrent-key', 'DIFFERENT'),
      send('other-key', 'X', '00000000-0000-4000-8000-000000000000'),
      send('third-key', 'Y'),
    ]);
    const same = responses.slice(0, 10);
    expect(new Set(same.map((response) => response.status))).toEqual(new Set([202]));
    expect(new Set(same.map((response) => response.body.notificationId)).size).toBe(1);
    expect(responses[10].status).toBe(422);
    expect(responses[11].status).toBe(404);
    expect(responses[12].status).toBe(202);
    expect((await api.tableCounts()).notifications).toBe(before + 2);
  });
});
