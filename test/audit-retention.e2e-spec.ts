import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { AuditEntryDto } from '@callbacks/contracts';
import { Metrics } from '@callbacks/observability';
import { waitUntil } from '@callbacks/testing';
import { ADMIN, TestSystem } from './support/system';

async function metric(worker: INestApplication, name: string, labels: string): Promise<number> {
  const text = await worker.get(Metrics).registry.metrics();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('audit trail: kept through erasure, expired after AUDIT_RETENTION_PERIOD', () => {
  it("keeps an erased partner's entries, and the worker's retention pass deletes only entries older than AUDIT_RETENTION_PERIOD", async () => {
    // Notifications keep their 30-day default: only the trail's own period decides here.
    const system = await TestSystem.start({ AUDIT_RETENTION_PERIOD: '30m', RETENTION_SWEEP_INTERVAL_MS: '500' }, 0);
    try {
      const partner = await system.createPartner();
      const partnerId = partner.partnerUniqueId;
      await system.http
        .put(`/${partnerId}/callbacks/5`)
        .set(partner.auth)
        .send({ callbackUrl: 'https://partner.example/hook' })
        .expect(201);
      await system.http.delete(`/admin/partners/${partnerId}`).set(ADMIN).expect(204);
      const listed = async () =>
        (
          (await system.http.get('/admin/audit').query({ partnerUniqueId: partnerId }).set(ADMIN).expect(200)).body.items as AuditEntryDto[]
        ).map((entry) => entry.action);
      // The partner and everything of it are gone; its trail is not (ids only, nothing personal).
      expect(await system.dataSource.query(`SELECT id FROM partners WHERE id = $1`, [partnerId])).toEqual([]);
      expect(await listed()).toEqual(['api_key_issued', 'callback_created', 'partner_erased']);

      // Two entries written 31 and 45 minutes ago (inserted with their time: entries are never updated).
      const old = [randomUUID(), randomUUID()];
      await system.dataSource.query(
        `INSERT INTO audit_entries (id, at, action, actor_kind, partner_id, target)
         VALUES ($1, now() - interval '31 minutes', 'callback_deleted', 'operator', $3, 'notification_type:6'),
                ($2, now() - interval '45 minutes', 'api_key_revoked', 'operator', $3, NULL)`,
        [old[0], old[1], partnerId],
      );
      expect(await listed()).toHaveLength(5);

      const worker = await system.startWorker();
      await waitUntil(
        async () => (await metric(worker, 'webhook_retention_deleted_total', 'kind="audit_entries"')) === 2,
        15_000,
        'old entries swept',
      );
      expect(await system.dataSource.query(`SELECT id FROM audit_entries WHERE id = ANY($1)`, [old])).toEqual([]);
      // Another pass or two: what is younger than the period stays.
      const runs = await metric(worker, 'webhook_retention_sweeps_total', 'result="ran"');
      await waitUntil(
        async () => (await metric(worker, 'webhook_retention_sweeps_total', 'result="ran"')) >= runs + 2,
        15_000,
        'two more sweeps',
      );
      expect(await listed()).toEqual(['api_key_issued', 'callback_created', 'partner_erased']);
    } finally {
      await system.close();
    }
  });
});
