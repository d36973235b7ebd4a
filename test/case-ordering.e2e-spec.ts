import type { ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { TestReceiver, waitUntil } from '@callbacks/testing';
import { ADMIN, type Partner, TestSystem } from './support/system';

/** delivery.ordering "case": one at a time per case, in acceptance order; other cases in parallel. */
describe('case ordering', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await TestSystem.start(
      {
        RETRY_SCHEDULE: Array.from({ length: 12 }, () => '100ms').join(','),
        DELIVERY_TIMEOUT_MS: '30000',
        WORKER_CONCURRENCY: '20',
        CIRCUIT_FAILURE_THRESHOLD: '1000',
      },
      2,
    );
  });
  afterAll(() => system.close());

  const register = async (partner: Partner, callbackUrl: string, delivery: Record<string, unknown>) =>
    (await system.http.put(`/${partner.partnerUniqueId}/callbacks/5`).set(partner.auth).send({ callbackUrl, delivery }).expect(201)).body
      .signingSecret as string;
  const publish = (partner: Partner, payload: Record<string, unknown>) =>
    system.http
      .post('/v1/notifications')
      .set(ADMIN)
      .send({ partnerUniqueId: partner.partnerUniqueId, notificationTypeId: 5, payload })
      .expect(202)
      .then((response) => response.body.notificationId as string);

  it('holds the next notification of a case until the previous one ends, shows waitingFor, and wakes it', async () => {
    const open: ServerResponse[] = [];
    const receiver = (await TestReceiver.start()).replyAlways((_request, response) => {
      open.push(response);
    });
    try {
      const partner = await system.createPartner('Held');
      await register(partner, receiver.url, { ordering: 'case' });
      const first = await publish(partner, { processUniqueId: 'C-1', step: 1 });
      await receiver.waitFor(1);
      const second = await publish(partner, { processUniqueId: 'C-1', step: 2 });
      const third = await publish(partner, { processUniqueId: 'C-1', step: 3 });
      // Another case is not held behind C-1.
      const other = await publish(partner, { processUniqueId: 'C-2', step: 1 });
      await receiver.waitFor(1, 10_000, (request) => request.headers['webhook-id'] === other);
      const held = await waitUntil(
        async () => {
          const detail = await system.notification(partner, second);
          return detail.waitingFor === first ? detail : undefined;
        },
        10_000,
        'the second notification to be held behind the first',
      );
      expect(held).toMatchObject({ status: 'pending', sequence: 2, waitingFor: first });
      const log = await system.http.get(`/${partner.partnerUniqueId}/notifications?processUniqueId=C-1`).set(partner.auth).expect(200);
      expect(log.body.items.find((item: { notificationId: string }) => item.notificationId === second)).toMatchObject({
        sequence: 2,
        waitingFor: first,
      });
      expect(receiver.deliveriesOf(second)).toHaveLength(0);

      // The first ends (delivered): the second is woken and sent, then the third after it.
      const answer = (notificationId: string) =>
        open
          .find((response) => response.req.headers['webhook-id'] === notificationId && !response.writableEnded)!
          .writeHead(200)
          .end();
      answer(first);
      await receiver.waitFor(1, 10_000, (request) => request.headers['webhook-id'] === second);
      expect(receiver.deliveriesOf(third)).toHaveLength(0);
      answer(second);
      await receiver.waitFor(1, 10_000, (request) => request.headers['webhook-id'] === third);
      const [thirdRequest] = receiver.deliveriesOf(third);
      expect(JSON.parse(thirdRequest.body)).toMatchObject({ sequence: 3, data: { step: 3 } });
      expect((await system.notification(partner, second)).waitingFor).toBeNull();
    } finally {
      for (const response of open) if (!response.writableEnded) response.destroy();
      await receiver.close();
    }
  });

  it('lets the next one go when the previous one has ended failed', async () => {
    const receiver = await TestReceiver.start();
    try {
      const partner = await system.createPartner('Failing');
      await register(partner, receiver.url, { ordering: 'case' });
      receiver.replyAlways((request, response) => {
        response.writeHead(JSON.parse(request.body).data.step === 1 ? 500 : 200).end();
      });
      const first = await publish(partner, { processUniqueId: 'F-1', step: 1 });
      const second = await publish(partner, { processUniqueId: 'F-1', step: 2 });
      await system.waitForStatus(partner, first, 'failed', 20_000);
      await system.waitForStatus(partner, second, 'delivered', 20_000);
      const firstAttempts = receiver.deliveriesOf(first);
      expect(firstAttempts).toHaveLength(13);
      // Not one attempt of the second before the first had ended.
      expect(receiver.deliveriesOf(second)[0].receivedAt).toBeGreaterThanOrEqual(firstAttempts[12].receivedAt);
    } finally {
      await receiver.close();
    }
  });

  it('delivers a few hundred notifications over 20 cases, with 10 % random 500s, in sequence order per case', async () => {
    const receiver = await TestReceiver.start();
    receiver.replyAlways((_request, response) => {
      response.writeHead(Math.random() < 0.1 ? 500 : 200).end();
    });
    try {
      const partner = await system.createPartner('Busy');
      const secret = await register(partner, receiver.url, { ordering: 'case', maxInFlight: 20 });
      const total = 300;
      for (let start = 0; start < total; start += 50)
        await Promise.all(
          Array.from({ length: 50 }, (_, k) => publish(partner, { processUniqueId: `case-${(start + k) % 20}`, n: start + k })),
        );
      await waitUntil(
        async () =>
          (
            (await system.dataSource.query(`SELECT count(*)::int AS n FROM notifications WHERE partner_id = $1 AND status = 'delivered'`, [
              partner.partnerUniqueId,
            ])) as Array<{ n: number }>
          )[0].n === total,
        120_000,
        'every notification to be delivered',
      );
      const webhook = new Webhook(secret);
      const successes = receiver.requests
        .filter((request) => request.answeredStatus === 200)
        .map(
          (request) =>
            webhook.verify(request.body, request.headers as Record<string, string>) as {
              sequence: number;
              data: { processUniqueId: string };
            },
        );
      const byCase = new Map<string, number[]>();
      for (const envelope of successes)
        byCase.set(envelope.data.processUniqueId, [...(byCase.get(envelope.data.processUniqueId) ?? []), envelope.sequence]);
      expect(byCase.size).toBe(20);
      let inversions = 0;
      for (const sequences of byCase.values()) for (let i = 1; i < sequences.length; i++) if (sequences[i] < sequences[i - 1]) inversions++;
      expect(inversions).toBe(0);
      for (const sequences of byCase.values()) expect(new Set(sequences).size).toBe(15);
      expect(receiver.requests.some((request) => request.answeredStatus === 500)).toBe(true);
    } finally {
      await receiver.close();
    }
  });
});
