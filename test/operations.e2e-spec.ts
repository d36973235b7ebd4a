import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { TestReceiver, TEST_ADMIN_API_KEY, waitUntil } from '@callbacks/testing';
import { createApiApp } from '../apps/api/src/api-app';
import { type Partner, TestSystem } from './support/system';

const BOARD = { Authorization: `Basic ${Buffer.from(`admin:${TEST_ADMIN_API_KEY}`).toString('base64')}` };

function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const line = text
    .split('\n')
    .find((candidate) =>
      candidate.startsWith(`${name}{`) || candidate.startsWith(`${name} `) ? wanted.every((label) => candidate.includes(label)) : false,
    );
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('operations: Bull Board, metrics and health', () => {
  let system: TestSystem;
  let worker: INestApplication;
  let receiver: TestReceiver;
  let partner: Partner;

  beforeAll(async () => {
    // A long second retry keeps a failing delivery sitting in "delayed" for the board.
    system = await TestSystem.start({ RETRY_SCHEDULE: '100ms,1h' }, 0);
    worker = await system.startWorker();
    receiver = await TestReceiver.start();
    partner = await system.createPartner();
  });
  afterAll(async () => {
    await receiver.close();
    await system.close();
  });

  it('guards Bull Board with HTTP Basic auth (admin / ADMIN_API_KEY)', async () => {
    const denied = await system.http.get('/admin/queues').expect(401);
    expect(denied.headers['www-authenticate']).toMatch(/^Basic /);
    expect(denied.headers['content-type']).toMatch(/problem\+json/);
    await system.http
      .get('/admin/queues')
      .set({ Authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}` })
      .expect(401);
    await system.http
      .get('/admin/queues')
      .set({ Authorization: `Bearer ${TEST_ADMIN_API_KEY}` })
      .expect(401);
    await system.http.get('/admin/queues/api/queues').expect(401);
    const page = await system.http.get('/admin/queues').set(BOARD).expect(200);
    expect(page.text).toContain('<html');
  });

  it('shows a failing delivery as a delayed job with ids only, its attempts in the log, and lets an operator retry a failed job', async () => {
    receiver.replyAlways(500);
    await system.registerCallback(partner, 5, receiver.url);
    const { body } = await system.http
      .post(`/v1/callbacks/echo/${partner.partnerUniqueId}/5`)
      .set(partner.auth)
      .send({ processUniqueId: 'p' })
      .expect(202);
    await receiver.waitFor(2);
    const queues = await waitUntil(async () => {
      const response = await system.http.get('/admin/queues/api/queues?activeQueue=deliveries&status=delayed').set(BOARD).expect(200);
      const queue = response.body.queues.find((candidate: { name: string }) => candidate.name === 'deliveries');
      return queue.jobs.length > 0 ? queue : undefined;
    });
    const [job] = queues.jobs;
    expect(job.id).toBe(body.notificationId);
    expect(job.data).toEqual({
      notificationId: body.notificationId,
      partnerUniqueId: partner.partnerUniqueId,
      notificationTypeId: 5,
      notificationType: 'status.changed',
      round: 0,
      test: true,
    });
    const secret = (await system.http.get(`/${partner.partnerUniqueId}/callbacks/5/secret`).set(partner.auth)).body.signingSecret as string;
    expect(JSON.stringify(queues)).not.toContain(secret.slice(6));
    const logs = await system.http.get(`/admin/queues/api/queues/deliveries/${job.id}/logs`).set(BOARD).expect(200);
    const lines = logs.body as string[];
    expect(lines[0]).toMatch(/^attempt 1: HTTP 500 in \d+ ms; retry in 0\.1 s$/);
    const retryInSeconds = Number(/^attempt 2: HTTP 500 in \d+ ms; retry in ([\d.]+) s$/.exec(lines[1])?.[1]);
    expect(retryInSeconds).toBeGreaterThanOrEqual(3600 * 0.9);
    expect(retryInSeconds).toBeLessThanOrEqual(3600 * 1.1);

    // Exhaust the schedule quickly by promoting the delayed retry; then retry the failed job from the board.
    await system.http.put(`/admin/queues/api/queues/deliveries/${job.id}/promote`).set(BOARD).expect(204);
    await system.waitForStatus(partner, body.notificationId, 'failed');
    receiver.replyAlways(200);
    await waitUntil(
      async () => (await system.http.put(`/admin/queues/api/queues/deliveries/${job.id}/retry`).set(BOARD)).status === 204,
      5_000,
      'board retry',
    );
    const delivered = await system.waitForStatus(partner, body.notificationId, 'delivered');
    expect(delivered.attempts.map((attempt) => attempt.statusCode)).toEqual([500, 500, 500, 200]);
  });

  it('exposes Prometheus metrics on the API and the worker, with delivery counters that move', async () => {
    const workerHttp = request(worker.getHttpServer());
    const before = (await workerHttp.get('/metrics').expect(200)).text;
    receiver.replyAlways(200);
    await system.registerCallback(partner, 6, receiver.url);
    const { body } = await system.http
      .post(`/v1/callbacks/echo/${partner.partnerUniqueId}/6`)
      .set(partner.auth)
      .send({ simulationUniqueId: 's' })
      .expect(202);
    await system.waitForStatus(partner, body.notificationId, 'delivered');
    const after = await workerHttp.get('/metrics').expect(200);
    expect(after.headers['content-type']).toMatch(/^text\/plain/);
    const delivered = { type: 'message.created', outcome: 'delivered' };
    expect(metricValue(after.text, 'webhook_deliveries_total', delivered)).toBe(
      metricValue(before, 'webhook_deliveries_total', delivered) + 1,
    );
    expect(metricValue(after.text, 'webhook_delivery_latency_seconds_count', { type: 'message.created' })).toBeGreaterThan(0);
    expect(metricValue(after.text, 'webhook_attempt_duration_seconds_count', { type: 'message.created', result: '2xx' })).toBeGreaterThan(
      0,
    );
    expect(after.text).toMatch(/^webhook_queue_jobs\{state="delayed"\} \d+/m);
    expect(after.text).toMatch(/^process_resident_memory_bytes /m);
    expect(after.text).not.toContain(partner.partnerUniqueId);
    expect(after.text).not.toContain(receiver.url);

    const api = await system.http.get('/metrics').expect(200);
    expect(
      metricValue(api.text, 'webhook_notifications_accepted_total', { type: 'message.created', status: 'pending', source: 'echo' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('answers liveness and readiness on both apps', async () => {
    await system.http.get('/health').expect(200, { status: 'ok' });
    const ready = await system.http.get('/health/ready').expect(200);
    expect(ready.body.info).toMatchObject({ postgres: { status: 'up' }, redis: { status: 'up' } });
    await request(worker.getHttpServer()).get('/health/ready').expect(200);
  });

  it('reports not ready (503) but stays live when Redis cannot be reached', async () => {
    const api = await createApiApp({ ...system.environment.config, redisUrl: 'redis://127.0.0.1:1' });
    await api.init();
    try {
      const http = request(api.getHttpServer());
      await http.get('/health').expect(200);
      const ready = await http.get('/health/ready').expect(503);
      expect(ready.body).toMatchObject({
        code: 'service_unavailable',
        checks: { error: { redis: { status: 'down' } }, info: { postgres: { status: 'up' } } },
      });
    } finally {
      await api.close();
    }
  });
});
