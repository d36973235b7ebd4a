import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createTestEnvironment, type TestEnvironment } from '@callbacks/testing';
import { createDataSource } from '../data-source';
import { AuditRepository, type NewAuditEntry } from './audit.repository';

/** The audit trail's statements against a real PostgreSQL: append, page both ways, refuse updates, expire. */
describe('AuditRepository (component: its statements on PostgreSQL)', () => {
  let environment: TestEnvironment;
  let dataSource: DataSource;
  let audit: AuditRepository;
  const partnerA = randomUUID();
  const partnerB = randomUUID();

  const entry = (partnerId: string | null, action: string): NewAuditEntry => ({
    id: randomUUID(),
    action,
    actorKind: 'api_key',
    actorId: randomUUID(),
    partnerId,
    target: 'notification_type:5',
    details: { callbackUrl: 'https://a.example/hook' },
    requestId: 'req-1',
    sourceAddress: '203.0.113.7',
  });

  beforeAll(async () => {
    environment = await createTestEnvironment();
    dataSource = createDataSource(environment.databaseUrl, 2);
    await dataSource.initialize();
    audit = new AuditRepository(dataSource);
  });
  afterAll(async () => {
    await dataSource.destroy();
    await environment.destroy();
  });

  it('pages a partner’s entries in insertion order, forward and backward, and all partners without a filter', async () => {
    const written = [entry(partnerA, 'callback_created'), entry(partnerB, 'callback_created'), entry(partnerA, 'callback_updated')];
    for (const one of written) await audit.insert(one);
    await audit.insert(entry(partnerA, 'callback_deleted'));

    const first = await audit.page({ partnerId: partnerA, limit: 2, order: 'oldest_first' });
    expect(first.map((row) => row.action)).toEqual(['callback_created', 'callback_updated']);
    expect(first[0]).toMatchObject({
      ...written[0],
      at: expect.any(Date),
      position: { atMicros: expect.stringMatching(/^\d+$/), seq: expect.any(String) },
    });
    const rest = await audit.page({ partnerId: partnerA, after: first[1].position, limit: 2, order: 'oldest_first' });
    expect(rest.map((row) => row.action)).toEqual(['callback_deleted']);

    const newest = await audit.page({ partnerId: partnerA, limit: 2, order: 'newest_first' });
    expect(newest.map((row) => row.action)).toEqual(['callback_deleted', 'callback_updated']);
    const older = await audit.page({ partnerId: partnerA, after: newest[1].position, limit: 5, order: 'newest_first' });
    expect(older.map((row) => row.action)).toEqual(['callback_created']);

    expect((await audit.page({ limit: 10, order: 'oldest_first' })).map((row) => row.partnerId)).toEqual([
      partnerA,
      partnerB,
      partnerA,
      partnerA,
    ]);
    expect(await audit.page({ since: new Date(Date.now() + 60_000), limit: 10, order: 'oldest_first' })).toEqual([]);
  });

  it('orders by time, then insertion, past nine entries (seq as a number, not as text), entries of one time included', async () => {
    const partner = randomUUID();
    const ids: string[] = [];
    // One transaction: every entry has the same now(), and only seq orders them.
    await dataSource.transaction(async (manager) => {
      for (let n = 0; n < 12; n += 1) {
        const one = entry(partner, 'callback_updated');
        ids.push(one.id);
        await audit.insert(one, manager);
      }
    });
    const first = await audit.page({ partnerId: partner, limit: 10, order: 'oldest_first' });
    const rest = await audit.page({ partnerId: partner, after: first[9].position, limit: 10, order: 'oldest_first' });
    expect([...first, ...rest].map((row) => row.id)).toEqual(ids);
  });

  it('is append-only: PostgreSQL refuses to update an entry', async () => {
    const one = entry(partnerA, 'api_key_revoked');
    await audit.insert(one);
    await expect(dataSource.query(`UPDATE audit_entries SET action = 'nothing' WHERE id = $1`, [one.id])).rejects.toThrow(/append-only/);
  });

  it('deletes only entries written before the cutoff, at most `limit` per call', async () => {
    await dataSource.query(`DELETE FROM audit_entries`);
    // Written two days ago: inserted with their time, since no entry can be updated.
    for (const action of ['partner_erased', 'api_key_issued'])
      await dataSource.query(
        `INSERT INTO audit_entries (id, at, action, actor_kind) VALUES ($1, now() - interval '2 days', $2, 'operator')`,
        [randomUUID(), action],
      );
    const kept = entry(partnerB, 'callback_created');
    await audit.insert(kept);
    const cutoff = new Date(Date.now() - 24 * 60 * 60 * 1000);
    expect(await audit.deleteBefore(cutoff, 1)).toBe(1);
    expect(await audit.deleteBefore(cutoff, 10)).toBe(1);
    expect(await audit.deleteBefore(cutoff, 10)).toBe(0);
    expect((await audit.page({ limit: 10, order: 'oldest_first' })).map((row) => row.id)).toEqual([kept.id]);
  });
});
