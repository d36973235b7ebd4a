import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import type { Environment } from '@callbacks/config';
import { DeliveryQueues } from '@callbacks/queue';
import { createTestEnvironment, TEST_ADMIN_API_KEY, type TestEnvironment, waitUntil } from '@callbacks/testing';
import { createApiApp } from '../../apps/api/src/api-app';
import { createWorkerApp, startWorkerApp } from '../../apps/worker/src/worker-app';

export const ADMIN = { Authorization: `Bearer ${TEST_ADMIN_API_KEY}` };

/** Fast retries and timeouts so a test sees a whole schedule in a second or two. */
export const FAST_DELIVERY: Environment = {
  ALLOW_INSECURE_CALLBACKS: 'true',
  RETRY_SCHEDULE: '150ms,150ms',
  DELIVERY_TIMEOUT_MS: '800',
  RECONCILE_INTERVAL_MS: '400',
  WORKER_CONCURRENCY: '20',
};

export interface Partner {
  partnerUniqueId: string;
  name: string;
  auth: { Authorization: string };
}

/** The API and any number of workers sharing one database and queue prefix. */
export class TestSystem {
  readonly http: ReturnType<typeof request>;
  readonly dataSource: DataSource;
  private readonly workers: INestApplication[] = [];

  private constructor(
    readonly environment: TestEnvironment,
    readonly api: INestApplication,
  ) {
    this.http = request(api.getHttpServer());
    this.dataSource = api.get(DataSource);
  }

  static async start(overrides: Environment = {}, workers = 1): Promise<TestSystem> {
    const environment = await createTestEnvironment({ ...FAST_DELIVERY, ...overrides });
    const api = await createApiApp(environment.config);
    await api.init();
    const system = new TestSystem(environment, api);
    for (let i = 0; i < workers; i++) await system.startWorker();
    return system;
  }

  async startWorker(): Promise<INestApplication> {
    const worker = await createWorkerApp(this.environment.config);
    await startWorkerApp(worker, this.environment.config);
    this.workers.push(worker);
    return worker;
  }

  async stopWorkers(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((worker) => worker.close()));
  }

  async createPartner(name = 'Acme'): Promise<Partner> {
    const response = await this.http.post('/admin/partners').set(ADMIN).send({ name }).expect(201);
    return { partnerUniqueId: response.body.partnerUniqueId, name, auth: { Authorization: `Bearer ${response.body.apiKey}` } };
  }

  /** Registers `callbackUrl` for the type and returns the signing secret. */
  async registerCallback(
    partner: Partner,
    notificationTypeId: number,
    callbackUrl: string,
    headers?: Record<string, string>,
  ): Promise<string> {
    const response = await this.http
      .put(`/${partner.partnerUniqueId}/callbacks/${notificationTypeId}`)
      .set(partner.auth)
      .send({ callbackUrl, headers })
      .expect(201);
    return response.body.signingSecret;
  }

  async notification(partner: Partner, notificationId: string): Promise<NotificationDetail> {
    const response = await this.http.get(`/${partner.partnerUniqueId}/notifications/${notificationId}`).set(partner.auth).expect(200);
    return response.body;
  }

  /** Polls the delivery log until the notification reaches `status`. */
  async waitForStatus(partner: Partner, notificationId: string, status: string, timeoutMs = 10_000): Promise<NotificationDetail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const detail = await this.notification(partner, notificationId);
      if (detail.status === status) return detail;
      if (Date.now() > deadline)
        throw new Error(
          `notification ${notificationId} is ${detail.status} after ${timeoutMs} ms, expected ${status}: ${JSON.stringify(detail.attempts)}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Resolves once no delivery can happen any more: no notification is pending and every delivery
   * queue (each shard) holds no waiting, delayed, prioritized or active job. Checks that nothing
   * more was sent belong after this, not after a sleep: a later send would need one of those.
   */
  async waitUntilSettled(timeoutMs = 15_000): Promise<void> {
    const queues = this.api.get(DeliveryQueues).all;
    await waitUntil(
      async () => {
        const [{ pending }] = (await this.dataSource.query(
          `SELECT count(*)::int AS pending FROM notifications WHERE status = 'pending'`,
        )) as Array<{ pending: number }>;
        if (pending > 0) return false;
        for (const queue of queues) {
          const counts = await queue.getJobCounts('waiting', 'delayed', 'prioritized', 'active', 'waiting-children');
          if (Object.values(counts).some((n) => n > 0)) return false;
        }
        return true;
      },
      timeoutMs,
      'every notification to end and every delivery queue to empty',
    );
  }

  async close(): Promise<void> {
    await this.stopWorkers();
    await this.api.close();
    await this.environment.destroy();
  }
}

export interface NotificationDetail {
  notificationId: string;
  status: string;
  statusReason: string | null;
  attemptCount: number;
  test: boolean;
  nextAttemptAt: string | null;
  payload: Record<string, unknown>;
  attempts: Array<{
    attempt: number;
    at: string;
    statusCode: number | null;
    error: string | null;
    durationMs: number;
    responseBody: string | null;
    callbackUrl: string;
  }>;
}
