import { TestReceiver, waitUntil } from '@callbacks/testing';
import { ADMIN, type Partner, TestSystem } from './support/system';

/** A callback's own delivery policy applies to its deliveries: its timeout and its in-flight cap. */
describe('delivery policy: per-callback timeout and in-flight cap', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await TestSystem.start({
      DELIVERY_TIMEOUT_MS: '20000',
      DELIVERY_LOCK_MS: '60000',
      CALLBACK_MAX_IN_FLIGHT: '2',
      WORKER_CONCURRENCY: '30',
      RETRY_SCHEDULE: '1h',
      CIRCUIT_FAILURE_THRESHOLD: '1000',
    });
  });
  afterAll(() => system.close());

  const put = (partner: Partner, callbackUrl: string, delivery: Record<string, unknown>) =>
    system.http.put(`/${partner.partnerUniqueId}/callbacks/5`).set(partner.auth).send({ callbackUrl, delivery }).expect(201);
  const publish = (partner: Partner, n: number) =>
    system.http
      .post('/v1/notifications')
      .set(ADMIN)
      .send({ partnerUniqueId: partner.partnerUniqueId, notificationTypeId: 5, payload: { processUniqueId: `p${n}` } })
      .expect(202);

  it("ends an attempt at the callback's timeoutMs, not DELIVERY_TIMEOUT_MS", async () => {
    const receiver = (await TestReceiver.start()).replyAlways('hang');
    try {
      const partner = await system.createPartner('Quick');
      await put(partner, receiver.url, { timeoutMs: 1000 });
      const { body } = await publish(partner, 1);
      const attempt = await waitUntil(
        async () => (await system.notification(partner, body.notificationId)).attempts[0],
        40_000,
        'the first attempt to be recorded',
      );
      expect(attempt).toMatchObject({ statusCode: null, error: 'timeout' });
      // Ended by the callback's 1 s deadline: DELIVERY_TIMEOUT_MS (20 s) would have made it at least 20 s long.
      expect(attempt.durationMs).toBeGreaterThanOrEqual(900);
      expect(attempt.durationMs).toBeLessThan(20_000);
      expect(receiver.requests[0].abandonedAt).toBeDefined();
    } finally {
      await receiver.close();
    }
  }, 60_000);

  it('holds a callback to its own maxInFlight (above CALLBACK_MAX_IN_FLIGHT), parking the rest', async () => {
    const receiver = (await TestReceiver.start()).replyAlways('hang');
    try {
      const partner = await system.createPartner('Wide');
      await put(partner, receiver.url, { maxInFlight: 5 });
      await Promise.all(Array.from({ length: 12 }, (_, n) => publish(partner, n)));
      // CALLBACK_MAX_IN_FLIGHT is 2: five at once only under the callback's own cap.
      await receiver.waitFor(5, 15_000);
      await waitUntil(
        async () =>
          (
            (await system.dataSource.query(`SELECT count(*)::int AS n FROM notifications WHERE partner_id = $1 AND parked_at IS NOT NULL`, [
              partner.partnerUniqueId,
            ])) as Array<{ n: number }>
          )[0].n === 7,
        15_000,
        'the seven over the cap to be parked',
      );
      // Every slot is held by a hanging request and the rest are parked: nothing else can be sent.
      expect(receiver.requests).toHaveLength(5);
      expect(receiver.maxConcurrent).toBe(5);
    } finally {
      await receiver.close();
    }
  });

  it('numbers the notifications of an ordered callback per case in acceptance order, race-free, and the envelope carries it', async () => {
    const receiver = (await TestReceiver.start()).replyAlways('hang');
    const plain = (await TestReceiver.start()).replyAlways(200);
    try {
      const partner = await system.createPartner('Ordered');
      await put(partner, receiver.url, { ordering: 'case', maxInFlight: 1 });
      const other = await system.createPartner('Unordered');
      await put(other, plain.url, {});
      const event = (partnerUniqueId: string, payload: Record<string, string>) =>
        system.http.post('/v1/notifications').set(ADMIN).send({ partnerUniqueId, notificationTypeId: 5, payload }).expect(202);

      const sequential: string[] = [];
      for (let n = 0; n < 3; n++) sequential.push((await event(partner.partnerUniqueId, { processUniqueId: 'seq' })).body.notificationId);
      // Concurrent single requests (group commits) and batches over three cases, a simulation among them.
      const cases = [{ processUniqueId: 'A' }, { processUniqueId: 'B' }, { simulationUniqueId: 'A' }];
      const batch = (k: number) =>
        system.http
          .post('/v1/notifications/batch')
          .set(ADMIN)
          .send({
            notifications: Array.from({ length: 9 }, (_, n) => ({
              partnerUniqueId: partner.partnerUniqueId,
              notificationTypeId: 5,
              payload: { ...cases[n % 3], batch: `${k}-${n}` },
            })),
          })
          .expect(202);
      await Promise.all([...Array.from({ length: 45 }, (_, n) => event(partner.partnerUniqueId, cases[n % 3])), batch(1), batch(2)]);
      const rows = (await system.dataSource.query(
        `SELECT id, process_unique_id, simulation_unique_id, case_sequence, payload::text AS payload FROM notifications WHERE partner_id = $1`,
        [partner.partnerUniqueId],
      )) as Array<{
        id: string;
        process_unique_id: string | null;
        simulation_unique_id: string | null;
        case_sequence: number;
        payload: string;
      }>;
      const byCase = new Map<string, typeof rows>();
      for (const row of rows) {
        const key = row.process_unique_id ? `p:${row.process_unique_id}` : `s:${row.simulation_unique_id}`;
        byCase.set(key, [...(byCase.get(key) ?? []), row]);
      }
      expect([...byCase.keys()].sort()).toEqual(['p:A', 'p:B', 'p:seq', 's:A']);
      for (const [key, members] of byCase) {
        const expected = Array.from({ length: members.length }, (_, n) => n + 1);
        expect({ key, sequences: members.map((row) => row.case_sequence).sort((a, b) => a - b) }).toEqual({ key, sequences: expected });
      }
      const sequenceOf = new Map(rows.map((row) => [row.id, row.case_sequence]));
      expect(sequential.map((id) => sequenceOf.get(id))).toEqual([1, 2, 3]);
      // Within a batch, acceptance order is the batch's order.
      for (const k of [1, 2]) {
        for (const caseIndex of [0, 1, 2]) {
          const inBatch = rows
            .filter((row) => row.payload.includes(`"batch"`) && row.payload.includes(`"${k}-`))
            .filter((row) => Number(JSON.parse(row.payload).batch.split('-')[1]) % 3 === caseIndex)
            .sort((a, b) => Number(JSON.parse(a.payload).batch.split('-')[1]) - Number(JSON.parse(b.payload).batch.split('-')[1]));
          const sequences = inBatch.map((row) => row.case_sequence);
          expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
          expect(sequences[2] - sequences[0]).toBe(2);
        }
      }

      const [first] = await receiver.waitFor(1, 15_000);
      expect(JSON.parse(first.body).sequence).toBe(sequenceOf.get(first.headers['webhook-id'] as string));
      const { body } = await event(other.partnerUniqueId, { processUniqueId: 'A' });
      const [unordered] = await plain.waitFor(1, 15_000);
      expect(unordered.headers['webhook-id']).toBe(body.notificationId);
      expect(JSON.parse(unordered.body)).not.toHaveProperty('sequence');
    } finally {
      await receiver.close();
      await plain.close();
    }
  });
});
