import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { type ChildApp, listeningPort, OtlpReceiver, type ReceivedSpan, TestReceiver, waitUntil } from '@callbacks/testing';
import { BUILT_API, BUILT_WORKER, startBuiltApp } from './support/processes';
import { type Partner, TestSystem } from './support/system';

const BUILT_TELEMETRY = join(__dirname, '..', 'dist/apps/api/libs/telemetry/src/index.js');
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

/** The spans of one trace, by the process that sent them. */
function traceOf(spans: ReceivedSpan[], traceId: string): { api: ReceivedSpan[]; worker: ReceivedSpan[] } {
  const inTrace = spans.filter((span) => span.traceId === traceId);
  return {
    api: inTrace.filter((span) => span.service === 'partner-callbacks-api'),
    worker: inTrace.filter((span) => span.service === 'partner-callbacks-worker'),
  };
}

const scopes = (spans: ReceivedSpan[]) => [...new Set(spans.map((span) => span.scope))].sort();

describe('OpenTelemetry traces from the built API and worker to an OTLP/HTTP receiver', () => {
  let system: TestSystem;
  let otlp: OtlpReceiver;
  let partnerReceiver: TestReceiver;
  let api: ChildApp;
  let apiUrl: string;
  let partner: Partner;
  const workers: ChildApp[] = [];

  /** Tracing env: the API exports http/protobuf, the workers http/json; spans leave every 100 ms. */
  const tracingEnv = (protocol: string) => ({
    ...system.environment.env,
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    LOG_LEVEL: 'info',
  });

  async function startWorker(extra: Record<string, string> = {}): Promise<ChildApp> {
    const worker = startBuiltApp(BUILT_WORKER, { ...tracingEnv('http/json'), ...extra });
    workers.push(worker);
    await worker.waitForOutput('worker running', 60_000);
    return worker;
  }

  async function echo(): Promise<string> {
    const response = await fetch(`${apiUrl}/v1/callbacks/echo/${partner.partnerUniqueId}/5`, {
      method: 'POST',
      headers: { ...partner.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ processUniqueId: 'PRC-7' }),
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { notificationId: string }).notificationId;
  }

  /** The worker's job spans ("process deliveries") for the notification, once all have arrived. */
  function jobSpans(notificationId: string, count: number): Promise<ReceivedSpan[]> {
    return waitUntil(
      () => {
        const found = otlp.spans.filter(
          (span) =>
            span.service === 'partner-callbacks-worker' &&
            span.name === 'process deliveries' &&
            span.attributes['bullmq.job.id'] === notificationId,
        );
        return found.length >= count && found;
      },
      15_000,
      `${count} job span(s) of ${notificationId}`,
    );
  }

  beforeAll(async () => {
    system = await TestSystem.start({ RETRY_SCHEDULE: '200ms' }, 0);
    otlp = await OtlpReceiver.start();
    partnerReceiver = await TestReceiver.start();
    api = startBuiltApp(BUILT_API, { ...tracingEnv('http/protobuf'), PORT: '0' });
    apiUrl = `http://127.0.0.1:${await listeningPort(api, 60_000)}`;
    partner = await system.createPartner();
    // A token in the callback URL's query must not reach the traces.
    await system.registerCallback(partner, 5, `${partnerReceiver.url}/hooks?token=partner-secret-token`);
  }, 90_000);

  afterAll(async () => {
    for (const child of [api, ...workers]) child?.kill('SIGKILL');
    await partnerReceiver?.close();
    await otlp?.close();
    await system?.close();
  });

  it('one trace per event: intake, insert and enqueue in the API; load, admission, sign, POST and record in the worker; retries in the same trace', async () => {
    const worker = await startWorker();
    partnerReceiver.replyWith(500, 200);
    const notificationId = await echo();
    await system.waitForStatus(partner, notificationId, 'delivered');

    // Both attempts are job spans continuing the intake's trace, children of the enqueue span.
    const attempts = await jobSpans(notificationId, 2);
    const { traceId } = attempts[0];
    expect(new Set(attempts.map((span) => span.traceId))).toEqual(new Set([traceId]));
    expect(new Set(attempts.map((span) => span.parentSpanId)).size).toBe(1);

    const trace = await waitUntil(() => {
      const found = traceOf(otlp.spans, traceId);
      return found.worker.filter((span) => span.scope === '@opentelemetry/instrumentation-undici').length === 2 && found;
    });
    // The API: the HTTP request, the NestJS handler, the INSERT, BullMQ's enqueue (its span is the jobs' parent).
    const intake = trace.api.find((span) => span.scope === '@opentelemetry/instrumentation-http' && span.parentSpanId === '');
    expect(intake).toBeDefined();
    expect(scopes(trace.api)).toEqual([
      '@opentelemetry/instrumentation-http',
      '@opentelemetry/instrumentation-ioredis',
      '@opentelemetry/instrumentation-nestjs-core',
      '@opentelemetry/instrumentation-pg',
      'bullmq',
    ]);
    // Group commit writes the notification in one statement (WITH … INSERT INTO notifications …).
    const statement = (span: (typeof trace.api)[number]) =>
      String(span.attributes['db.query.text'] ?? span.attributes['db.statement'] ?? '');
    expect(trace.api.some((span) => span.name.startsWith('pg.query') && statement(span).includes('INSERT INTO notifications'))).toBe(true);
    const enqueue = trace.api.find((span) => span.scope === 'bullmq');
    expect(enqueue?.spanId).toBe(attempts[0].parentSpanId);
    // The worker: load and record (pg), admission (ioredis), sign, the POST (undici), for each attempt.
    expect(scopes(trace.worker)).toEqual([
      '@opentelemetry/instrumentation-ioredis',
      '@opentelemetry/instrumentation-pg',
      '@opentelemetry/instrumentation-undici',
      'bullmq',
      'partner-callbacks',
    ]);
    for (const attempt of attempts) {
      const children = trace.worker.filter((span) => span.parentSpanId === attempt.spanId);
      expect(children.map((span) => span.name)).toEqual(expect.arrayContaining(['sign webhook', 'POST']));
      expect(children.filter((span) => span.scope === '@opentelemetry/instrumentation-pg').length).toBeGreaterThanOrEqual(2);
    }
    const posts = trace.worker.filter((span) => span.scope === '@opentelemetry/instrumentation-undici');
    expect(posts[0].attributes['url.full']).toBe(`${partnerReceiver.url}/hooks`);
    expect(JSON.stringify(otlp.spans)).not.toContain('partner-secret-token');
    // The exporters' two protocols both reached the receiver.
    expect([...otlp.contentTypes].sort()).toEqual(['application/json', 'application/x-protobuf']);

    // WEBHOOK_TRACEPARENT is off by default: the partner learns nothing of our traces.
    for (const request of partnerReceiver.deliveriesOf(notificationId)) expect(request.headers.traceparent).toBeUndefined();

    // Log lines inside a span carry its trace and span ids.
    const delivered = JSON.parse(
      worker.output.split('\n').find((line) => line.includes('"msg":"delivered"') && line.includes(notificationId))!,
    );
    expect(delivered.trace_id).toBe(traceId);
    expect(attempts.map((span) => span.spanId)).toContain(delivered.span_id);
    const accepted = api.output.split('\n').find((line) => line.includes('request completed') && line.includes('/v1/callbacks/echo/'));
    expect(JSON.parse(accepted!)).toMatchObject({ trace_id: traceId, span_id: intake!.spanId });

    // SIGTERM: the worker exits 0 after sending its last spans.
    worker.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
  }, 90_000);

  it('WEBHOOK_TRACEPARENT=true: the webhook carries the trace context of its POST span', async () => {
    await startWorker({ WEBHOOK_TRACEPARENT: 'true' });
    const notificationId = await echo();
    const [request] = await partnerReceiver.waitFor(1, 10_000, (received) => received.headers['webhook-id'] === notificationId);
    const [, traceId, spanId] = TRACEPARENT.exec(String(request.headers.traceparent)) ?? [];
    const [attempt] = await jobSpans(notificationId, 1);
    expect(traceId).toBe(attempt.traceId);
    const post = await waitUntil(() => otlp.spans.find((span) => span.spanId === spanId));
    expect(post).toMatchObject({
      service: 'partner-callbacks-worker',
      scope: '@opentelemetry/instrumentation-undici',
      parentSpanId: attempt.spanId,
    });
  }, 60_000);

  it('without an OTLP endpoint, neither the SDK nor an exporter is loaded', () => {
    const probe = (env: Record<string, string>) => {
      const script = `
        const { startTracing } = require(${JSON.stringify(BUILT_TELEMETRY)});
        const tracing = startTracing('partner-callbacks-api');
        const loaded = Object.keys(require.cache).filter((file) => /@opentelemetry[\\\\/](sdk-node|exporter-trace-otlp)/.test(file)).length;
        console.log(JSON.stringify({ started: tracing !== null, loaded }));
        if (tracing) tracing.shutdown();`;
      const run = spawnSync(process.execPath, ['-e', script], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
      expect(run.status).toBe(0);
      return JSON.parse(run.stdout.trim().split('\n').pop()!) as { started: boolean; loaded: number };
    };
    expect(probe({})).toEqual({ started: false, loaded: 0 });
    expect(probe({ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toEqual({ started: false, loaded: 0 });
    const on = probe({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${otlp.endpoint}/v1/traces` });
    expect(on.started).toBe(true);
    expect(on.loaded).toBeGreaterThan(0);
  }, 60_000);
});
