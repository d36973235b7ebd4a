import { Agent, type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { DeliveryQueues } from '@callbacks/queue';
import { ChildApp, listeningPort, TestReceiver, waitUntil } from '@callbacks/testing';
import { Client } from 'pg';
import { BUILT_API, BUILT_WORKER, startBuiltApp } from './support/processes';
import { ADMIN, TestSystem } from './support/system';

/** One request over `agent` (node:http, so the test chooses the connection), its body read. */
function send(
  agent: Agent,
  port: number,
  method: string,
  path: string,
  json?: unknown,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const body = json === undefined ? undefined : JSON.stringify(json);
    const outgoing = httpRequest(
      { agent, host: '127.0.0.1', port, method, path, headers: { ...ADMIN, ...(body ? { 'content-type': 'application/json' } : {}) } },
      (incoming) => {
        let text = '';
        incoming.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: text }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

describe('graceful shutdown of a worker process', () => {
  /**
   * A built worker process with one delivery in flight: the receiver takes 1.5 s to answer, so a
   * signal sent now lands mid-delivery. `close` ends everything whatever the test did.
   */
  async function deliveryInFlight() {
    const system = await TestSystem.start({ DELIVERY_TIMEOUT_MS: '5000' }, 0);
    const receiver = await TestReceiver.start();
    const worker = startBuiltApp(BUILT_WORKER, { ...system.environment.env, LOG_LEVEL: 'info' });
    const close = async () => {
      worker.kill('SIGKILL');
      await receiver.close();
      await system.close();
    };
    try {
      await worker.waitForOutput('worker running');
      receiver.replyWith((_request, response) => void setTimeout(() => response.writeHead(200).end('ok'), 1_500));
      const partner = await system.createPartner();
      await system.registerCallback(partner, 5, receiver.url);
      const { body } = await system.http
        .post(`/v1/callbacks/echo/${partner.partnerUniqueId}/5`)
        .set(partner.auth)
        .send({ processUniqueId: 'p' })
        .expect(202);
      const [request] = await receiver.waitFor(1);
      return { system, receiver, worker, partner, notificationId: body.notificationId as string, request, close };
    } catch (error) {
      await close();
      throw error;
    }
  }

  it('on SIGTERM mid-delivery, finishes the delivery once, records it and exits 0', async () => {
    const { system, receiver, worker, partner, notificationId, request, close } = await deliveryInFlight();
    try {
      worker.kill('SIGTERM');
      const exit = await worker.exited;
      expect(exit).toEqual({ code: 0, signal: null });
      expect(Date.now() - request.receivedAt).toBeGreaterThanOrEqual(1_400);

      const detail = await system.notification(partner, notificationId);
      expect(detail).toMatchObject({ status: 'delivered', attemptCount: 1 });
      expect(detail.attempts[0]).toMatchObject({ statusCode: 200, responseBody: 'ok' });

      // The job was completed, not left locked to stall: no worker can run it again.
      expect(await system.api.get(DeliveryQueues).all[0].getJobState(notificationId)).toBe('completed');
      await system.waitUntilSettled();
      expect(receiver.deliveriesOf(notificationId)).toHaveLength(1);
    } finally {
      await close();
    }
  }, 90_000);

  it('on SIGTERM, the API finishes the request in flight before it exits 0', async () => {
    const system = await TestSystem.start({}, 0);
    const api = startBuiltApp(BUILT_API, { ...system.environment.env, PORT: '0', LOG_LEVEL: 'info' });
    const blocker = new Client({ connectionString: system.environment.databaseUrl });
    try {
      const port = await listeningPort(api);
      const partner = await system.createPartner();
      await system.registerCallback(partner, 5, 'https://partner.example.com/a');
      // Hold the callback's row so the next PUT has to wait inside the API.
      await blocker.connect();
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM callbacks WHERE partner_id = $1 FOR UPDATE', [partner.partnerUniqueId]);
      // One keep-alive connection, as a load balancer or a partner's SDK keeps: the PUT, then a GET on it.
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const inFlight = send(agent, port, 'PUT', `/${partner.partnerUniqueId}/callbacks/5`, {
        callbackUrl: 'https://partner.example.com/b',
      });
      // The PUT is inside the API, waiting on the row.
      await waitUntil(
        async () => {
          const [{ waiting }] = (await system.dataSource.query(
            `SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          )) as Array<{ waiting: number }>;
          return waiting === 1;
        },
        10_000,
        'the PUT to wait on the row',
      );
      api.kill('SIGTERM');
      // The API has taken the signal once it stops accepting connections; it must still be running then.
      await waitUntil(
        async () =>
          (await fetch(`http://127.0.0.1:${port}/health`).then(
            () => false,
            () => true,
          )) || undefined,
        10_000,
        'the API to stop accepting connections',
      );
      expect(api.running).toBe(true);
      await blocker.query('COMMIT');
      const response = await inFlight;
      expect(response.status).toBe(200);
      expect(JSON.parse(response.body).callbackUrl).toBe('https://partner.example.com/b');
      // The connection the PUT came on is still open: the next request on it is answered, and its
      // answer closes it, so a client that keeps it busy cannot hold the shutdown open.
      const next = await send(agent, port, 'GET', '/health');
      expect(next.status).toBe(200);
      expect(next.headers.connection).toBe('close');
      expect(await api.exited).toEqual({ code: 0, signal: null });
      agent.destroy();
    } finally {
      api.kill('SIGKILL');
      await blocker.end().catch(() => undefined);
      await system.close();
    }
  }, 90_000);

  it("takes npm start's SIGTERM arriving before the terminal's SIGINT as one Ctrl-C: the delivery finishes, exit 0", async () => {
    const { system, worker, partner, notificationId, request, close } = await deliveryInFlight();
    try {
      // On a busy machine the parent's SIGTERM can be handled before the group's SIGINT.
      worker.kill('SIGTERM');
      await worker.waitForOutput('SIGTERM, closing');
      worker.kill('SIGINT');
      expect(await worker.exited).toEqual({ code: 0, signal: null });
      expect(Date.now() - request.receivedAt).toBeGreaterThanOrEqual(1_400);
      expect(worker.output).not.toContain('without waiting');
      expect((await system.notification(partner, notificationId)).status).toBe('delivered');
    } finally {
      await close();
    }
  }, 90_000);

  it('on Ctrl-C, `npm start` lets the delivery in flight finish, and the API and the worker both exit 0', async () => {
    const system = await TestSystem.start({ DELIVERY_TIMEOUT_MS: '5000' }, 0);
    const receiver = await TestReceiver.start();
    const root = join(__dirname, '..');
    // As a shell runs `npm start` in the foreground: start-all leads a process group with its children.
    const env = { PATH: process.env.PATH, ...system.environment.env, PORT: '0', WORKER_PORT: '0', LOG_LEVEL: 'info' };
    const started = ChildApp.start('npm start', process.execPath, [join(root, 'scripts/start-all.mjs')], env, {
      cwd: root,
      detached: true,
    });
    const group = -started.child.pid!;
    try {
      await started.waitForOutput('API listening');
      await started.waitForOutput('worker running');
      receiver.replyWith((_request, response) => void setTimeout(() => response.writeHead(200).end('ok'), 1_500));
      const partner = await system.createPartner();
      await system.registerCallback(partner, 5, receiver.url);
      const { body } = await system.http
        .post(`/v1/callbacks/echo/${partner.partnerUniqueId}/5`)
        .set(partner.auth)
        .send({ processUniqueId: 'p' })
        .expect(202);
      const [request] = await receiver.waitFor(1);

      // Ctrl-C: the terminal sends SIGINT to every process of the foreground group.
      process.kill(group, 'SIGINT');
      expect(await started.exited).toEqual({ code: 0, signal: null });
      expect(Date.now() - request.receivedAt).toBeGreaterThanOrEqual(1_400);
      expect(started.output).toContain('api stopped (code 0)');
      expect(started.output).toContain('worker stopped (code 0)');
      expect(started.output).not.toContain('without waiting');

      const detail = await system.notification(partner, body.notificationId);
      expect(detail).toMatchObject({ status: 'delivered', attemptCount: 1 });
      expect(detail.attempts[0]).toMatchObject({ statusCode: 200, responseBody: 'ok' });
    } finally {
      try {
        process.kill(group, 'SIGKILL');
      } catch {
        // the group is gone already
      }
      await receiver.close();
      await system.close();
    }
  }, 90_000);

  it('exits at once on a second Ctrl-C (SIGINT), without waiting for the delivery in flight', async () => {
    // The receiver never answers and the deadline is 50 s: waiting for the delivery would take 60 s.
    const system = await TestSystem.start({ DELIVERY_TIMEOUT_MS: '50000' }, 0);
    const receiver = (await TestReceiver.start()).replyAlways('hang');
    const worker = startBuiltApp(BUILT_WORKER, { ...system.environment.env, LOG_LEVEL: 'info' });
    try {
      await worker.waitForOutput('worker running');
      const partner = await system.createPartner();
      await system.registerCallback(partner, 5, receiver.url);
      const { body } = await system.http
        .post(`/v1/callbacks/echo/${partner.partnerUniqueId}/5`)
        .set(partner.auth)
        .send({ processUniqueId: 'p' })
        .expect(202);
      const [request] = await receiver.waitFor(1);
      worker.kill('SIGINT');
      // The first Ctrl-C is being handled once the worker says so.
      await worker.waitForOutput('SIGINT, closing');
      expect(worker.running).toBe(true);
      worker.kill('SIGINT');
      expect(await worker.exited).toEqual({ code: 1, signal: null });
      expect(worker.output).toContain('SIGINT again, exiting without waiting');
      expect(worker.output).not.toContain('closing by force');
      // It left while the delivery was still in flight: unanswered, nothing recorded.
      expect(request.answeredStatus).toBeUndefined();
      expect(await system.notification(partner, body.notificationId)).toMatchObject({ status: 'pending', attemptCount: 0 });
      await waitUntil(() => request.abandonedAt !== undefined, 10_000, 'the receiver to see the connection close');
    } finally {
      worker.kill('SIGKILL');
      await receiver.close();
      await system.close();
    }
  }, 120_000);

  it('closes by force DELIVERY_TIMEOUT_MS + 10 s after SIGTERM when a delivery cannot finish (its record waits on PostgreSQL), then exits', async () => {
    const system = await TestSystem.start({ DELIVERY_TIMEOUT_MS: '1000' }, 0);
    const receiver = await TestReceiver.start();
    const worker = startBuiltApp(BUILT_WORKER, { ...system.environment.env, LOG_LEVEL: 'info' });
    const blocker = new Client({ connectionString: system.environment.databaseUrl });
    let answer: (() => void) | undefined;
    receiver.replyAlways((_request, response) => (answer = () => response.writeHead(200).end('ok')));
    try {
      await blocker.connect();
      await worker.waitForOutput('worker running');
      const partner = await system.createPartner();
      await system.registerCallback(partner, 5, receiver.url);
      const { body } = await system.http
        .post(`/v1/callbacks/echo/${partner.partnerUniqueId}/5`)
        .set(partner.auth)
        .send({ processUniqueId: 'p' })
        .expect(202);
      await receiver.waitFor(1);
      // The notification's row is held, then the receiver answers: recording the attempt waits on the row.
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM notifications WHERE id = $1 FOR UPDATE', [body.notificationId]);
      answer!();
      await waitUntil(
        async () => {
          const [{ waiting }] = (await system.dataSource.query(
            `SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          )) as Array<{ waiting: number }>;
          return waiting === 1;
        },
        10_000,
        'the attempt record to wait on the row',
      );
      const signalled = Date.now();
      worker.kill('SIGTERM');
      const exit = await worker.exited;
      const tookMs = Date.now() - signalled;
      // Forced at DELIVERY_TIMEOUT_MS + 10 s, not before; the record still waits on PostgreSQL, so the
      // process gives up on its connections 5 s later and exits 1.
      expect(worker.output).toMatch(/"graceMs":11000.*closing by force/);
      expect(tookMs).toBeGreaterThanOrEqual(11_000);
      expect(worker.output).toContain('still closing 16000 ms after SIGTERM; exiting anyway');
      expect(exit).toEqual({ code: 1, signal: null });
    } finally {
      worker.kill('SIGKILL');
      await blocker.query('ROLLBACK').catch(() => undefined);
      await blocker.end().catch(() => undefined);
      await receiver.close();
      await system.close();
    }
  }, 90_000);
});
