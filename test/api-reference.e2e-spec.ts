import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { Webhook } from 'standardwebhooks';
import { NOTIFICATION_TYPES } from '@callbacks/contracts';
import { ChildApp, freePort, type ReceivedRequest, TestReceiver, waitUntil } from '@callbacks/testing';
import { BUILT_API, BUILT_WORKER, startBuiltApp } from './support/processes';
import { type PrismProxy, startPrismProxy } from './support/prism';
import { ADMIN, TestSystem } from './support/system';

const root = join(__dirname, '..');
/** What the API build writes beside itself (apps/api/src/openapi/write-openapi.ts). */
const BUILT_OPENAPI = join(root, 'dist/apps/api/apps/api/src/openapi/openapi.json');
const NEWMAN = join(root, 'node_modules/newman/bin/newman.js');
const OPENAPI_TYPESCRIPT = join(root, 'node_modules/openapi-typescript/bin/cli.js');
const TSC = join(root, 'node_modules/typescript/bin/tsc');
const OPERATOR_SECRET = `whsec_${Buffer.from('operator-events-test-secret-0123').toString('base64')}`;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface NewmanExecution {
  item: { name: string };
  request: { method: string; url: { path: string[] } };
  response?: { code: number; header: Array<{ key: string; value: string }> };
  assertions?: Array<{ assertion: string; error?: { message: string } }>;
}

interface NewmanReport {
  run: { executions: NewmanExecution[]; failures: Array<{ error: { message: string }; source?: { name?: string } }> };
}

/** The JSON Schema validator (2020-12, formats checked) over the whole document, for `#/…` pointers into it. */
function documentValidator(document: Json) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(document, 'openapi.json');
  return (pointer: string, value: unknown): string[] => {
    const validate = ajv.getSchema(`openapi.json#${pointer}`);
    if (!validate) throw new Error(`the document has no schema at ${pointer}`);
    return validate(value) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message}`);
  };
}

const pointerTo = (...segments: string[]) => segments.map((segment) => `/${segment.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

/** Checks a received webhook against a `webhooks` entry: body by its schema, headers by their parameters. */
function checkWebhook(document: Json, validate: ReturnType<typeof documentValidator>, name: string, request: ReceivedRequest): string[] {
  const operation = document.webhooks[name].post;
  const bodyPointer = pointerTo('webhooks', name, 'post', 'requestBody', 'content', 'application/json', 'schema');
  const body = JSON.parse(request.body) as Json;
  const problems = validate(bodyPointer, body).map((problem) => `body ${problem}`);
  // No field the document does not name (the schemas leave room to add fields; the service adds none undocumented).
  const envelope = document.components.schemas[operation.requestBody.content['application/json'].schema.$ref.split('/').pop()];
  for (const key of Object.keys(body)) if (!(key in envelope.properties)) problems.push(`body field ${key} is not in the document`);
  for (const { $ref } of operation.parameters as Array<{ $ref: string }>) {
    const parameterName = $ref.split('/').pop()!;
    const parameter = document.components.parameters[parameterName];
    const value = request.headers[parameter.name];
    if (value === undefined) {
      if (parameter.required) problems.push(`header ${parameter.name} is missing`);
      continue;
    }
    problems.push(
      ...validate(pointerTo('components', 'parameters', parameterName, 'schema'), value).map(
        (problem) => `header ${parameter.name} ${problem}`,
      ),
    );
  }
  return problems;
}

describe('the API reference: OpenAPI 3.1 webhooks, generated types and the Postman collection, against the built apps', () => {
  let system: TestSystem;
  let api: ChildApp;
  let worker: ChildApp;
  let apiUrl: string;
  let receiver: TestReceiver;
  let failing: TestReceiver;
  let operator: TestReceiver;
  let document: Json;
  let validate: ReturnType<typeof documentValidator>;
  const received = new Map<string, Json>();

  beforeAll(async () => {
    receiver = await TestReceiver.start();
    failing = (await TestReceiver.start()).replyAlways(500);
    operator = await TestReceiver.start();
    system = await TestSystem.start(
      { OPERATOR_WEBHOOK_URL: `${operator.url}/operator-events`, OPERATOR_WEBHOOK_SECRET: OPERATOR_SECRET },
      0,
    );
    const port = await freePort();
    apiUrl = `http://127.0.0.1:${port}`;
    api = startBuiltApp(BUILT_API, { ...system.environment.env, PORT: String(port) });
    worker = startBuiltApp(BUILT_WORKER, system.environment.env);
    await waitUntil(
      () =>
        fetch(`${apiUrl}/health`).then(
          (response) => response.ok,
          () => false,
        ),
      60_000,
      'the built API answering',
    );
    document = (await (await fetch(`${apiUrl}/docs-json`)).json()) as Json;
    validate = documentValidator(document);
  }, 120_000);

  afterAll(async () => {
    await api?.stop();
    await worker?.stop();
    await Promise.all([receiver, failing, operator].map((each) => each?.close()));
    await system?.close();
  });

  it('the built API serves the document the build wrote, the same the code makes in-process', async () => {
    expect(document).toEqual(JSON.parse(readFileSync(BUILT_OPENAPI, 'utf8')));
    // tsc (the build) and the tests' swc emit decorator metadata differently; the document must not differ.
    const { body: inProcess } = await system.http.get('/docs-json').expect(200);
    expect(document).toEqual(inProcess);
  });

  it("publishes each notification type's example from the document; the webhook received is valid by that type's webhooks entry", async () => {
    const partner = await system.createPartner('Reference');
    const secrets = new Map<number, string>();
    for (const type of NOTIFICATION_TYPES)
      secrets.set(
        type.id,
        await system.registerCallback(partner, type.id, `${receiver.url}/type-${type.id}`, { 'X-Partner-Token': 'abc123' }),
      );
    const examples = document.paths['/v1/notifications'].post.requestBody.content['application/json'].examples as Record<
      string,
      { value: Json }
    >;
    const sent = new Map<string, string>();
    for (const type of NOTIFICATION_TYPES) {
      const example = examples[type.name].value;
      expect(example.notificationTypeId).toBe(type.id);
      const response = await fetch(`${apiUrl}/v1/notifications`, {
        method: 'POST',
        headers: { ...ADMIN, 'content-type': 'application/json' },
        body: JSON.stringify({ ...example, partnerUniqueId: partner.partnerUniqueId }),
      });
      expect(response.status).toBe(202);
      sent.set(((await response.json()) as { notificationId: string }).notificationId, type.name);
    }
    // A test echo of the first type too: the same envelope, "test": true.
    const first = NOTIFICATION_TYPES[0];
    const echo = await fetch(`${apiUrl}/v1/callbacks/echo/${partner.partnerUniqueId}/${first.id}`, {
      method: 'POST',
      headers: { ...partner.auth, 'content-type': 'application/json' },
      body: JSON.stringify(examples[first.name].value.payload),
    });
    expect(echo.status).toBe(202);
    const echoId = ((await echo.json()) as { notificationId: string }).notificationId;
    sent.set(echoId, first.name);

    const deliveries = await receiver.waitFor(sent.size, 30_000, (request) => sent.has(String(request.headers['webhook-id'])));
    expect(deliveries).toHaveLength(sent.size);
    const problems: string[] = [];
    for (const delivery of deliveries) {
      const id = String(delivery.headers['webhook-id']);
      const name = sent.get(id)!;
      const body = JSON.parse(delivery.body) as Json;
      problems.push(
        ...checkWebhook(document, validate, name, delivery).map((problem) => `${name}${id === echoId ? ' (echo)' : ''}: ${problem}`),
      );
      expect(body).toMatchObject({ type: name, test: id === echoId, partnerUniqueId: partner.partnerUniqueId });
      expect(body.data).toEqual(examples[name].value.payload);
      // The signature the document describes verifies with the callback's secret (any Standard Webhooks library).
      expect(() =>
        new Webhook(secrets.get(body.notificationTypeId)!).verify(delivery.body, delivery.headers as Record<string, string>),
      ).not.toThrow();
      if (id !== echoId) received.set(name, body);
    }
    expect(problems).toEqual([]);
    // The control: a webhook the document does not allow is caught.
    const wrong = { ...deliveries[0], body: JSON.stringify({ ...JSON.parse(deliveries[0].body), test: 'no', extra: 1 }) };
    expect(checkWebhook(document, validate, sent.get(String(wrong.headers['webhook-id']))!, wrong)).toEqual([
      'body /test must be boolean',
      'body field extra is not in the document',
    ]);
  }, 60_000);

  it('an operator event received is valid by its webhooks entry', async () => {
    const partner = await system.createPartner('Failing');
    const type = NOTIFICATION_TYPES[1];
    await system.registerCallback(partner, type.id, failing.url);
    const response = await fetch(`${apiUrl}/v1/notifications`, {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body: JSON.stringify({ partnerUniqueId: partner.partnerUniqueId, notificationTypeId: type.id, payload: type.example }),
    });
    expect(response.status).toBe(202);
    const { notificationId } = (await response.json()) as { notificationId: string };
    const [event] = await operator.waitFor(1, 30_000, (request) => JSON.parse(request.body).data?.notificationId === notificationId);
    expect(JSON.parse(event.body).type).toBe('notification.exhausted');
    expect(checkWebhook(document, validate, 'notification.exhausted', event)).toEqual([]);
    received.set('notification.exhausted', JSON.parse(event.body) as Json);
  }, 60_000);

  it('a TypeScript type generated from the document (openapi-typescript) compiles against the received webhooks, and not against a wrong one', () => {
    expect([...received.keys()].sort()).toEqual([...NOTIFICATION_TYPES.map((type) => type.name), 'notification.exhausted'].sort());
    // Inside the repository, where the compiler finds node_modules.
    const dir = mkdtempSync(join(root, 'dist', 'openapi-types-'));
    try {
      writeFileSync(join(dir, 'openapi.json'), JSON.stringify(document));
      const generated = spawnSync(process.execPath, [OPENAPI_TYPESCRIPT, join(dir, 'openapi.json'), '-o', join(dir, 'openapi.ts')], {
        encoding: 'utf8',
      });
      expect(generated.status).toBe(0);
      const schemaName = (name: string) =>
        document.webhooks[name].post.requestBody.content['application/json'].schema.$ref.split('/').pop();
      const operationId = (name: string) => document.webhooks[name].post.operationId as string;
      const lines = [
        "import type { components, operations } from './openapi';",
        "import type { OperatorEventBody, WebhookEnvelope } from '@callbacks/contracts';",
        "type Schemas = components['schemas'];",
        "type Body<Id extends keyof operations> = operations[Id]['requestBody'] extends { content: { 'application/json': infer B } } ? B : never;",
      ];
      for (const [name, body] of received) {
        const variable = name.replace(/\W/g, '_');
        // The body exactly as received, as an object literal: literal types and excess properties are checked.
        lines.push(`export const ${variable}: Schemas[${JSON.stringify(schemaName(name))}] = ${JSON.stringify(body)};`);
        lines.push(`export const ${variable}_body: Body<${JSON.stringify(operationId(name))}> = ${variable};`);
        // The code's own types and the document's agree.
        lines.push(
          name === 'notification.exhausted'
            ? `export const ${variable}_code: OperatorEventBody<'notification.exhausted'> = ${variable};`
            : `export const ${variable}_code: WebhookEnvelope = ${variable};`,
        );
      }
      writeFileSync(join(dir, 'received.ts'), `${lines.join('\n')}\n`);
      // The control: the same webhook with another type's id must not compile.
      const [firstName, firstBody] = [...received][0];
      writeFileSync(
        join(dir, 'control.ts'),
        [
          "import type { components } from './openapi';",
          `export const wrong: components['schemas'][${JSON.stringify(schemaName(firstName))}] = ${JSON.stringify({ ...firstBody, notificationTypeId: 99 })};`,
          '',
        ].join('\n'),
      );
      // The repository's own compiler settings (strict), so that @callbacks/contracts resolves too.
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          extends: join(root, 'tsconfig.base.json'),
          compilerOptions: { noEmit: true },
          files: ['received.ts', 'control.ts'],
        }),
      );
      const compiled = spawnSync(process.execPath, [TSC, '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8', cwd: dir });
      const errors = compiled.stdout.split('\n').filter((line) => /error TS\d+/.test(line));
      expect(errors.filter((line) => !line.startsWith('control.ts'))).toEqual([]);
      expect(errors).toEqual([expect.stringMatching(/^control\.ts\(2,.*error TS2322: Type '99' is not assignable to type '\d'/)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  describe('the Postman collection at /docs/postman.json', () => {
    let prism: PrismProxy;
    beforeAll(async () => {
      prism = await startPrismProxy(document, apiUrl, { errors: false });
    }, 90_000);
    afterAll(() => prism?.stop());

    it('runs with newman through the Prism proxy: every request answers as the document says, the quick start succeeds', async () => {
      const response = await fetch(`${apiUrl}/docs/postman.json`);
      expect(response.status).toBe(200);
      const collection = (await response.json()) as Json;
      const variables = Object.fromEntries(
        (collection.variable as Array<{ key: string; value: string }>).map(({ key, value }) => [key, value]),
      );
      expect(variables).toMatchObject({ baseUrl: apiUrl, partnerUniqueId: '', apiKey: '' });
      const quickStart = (collection.item[0].item as Array<{ name: string }>).map((item) => item.name.replace(/^\d+\. /, ''));
      expect(quickStart).toHaveLength(5);

      const created = await system.http.post('/admin/partners').set(ADMIN).send({ name: 'Postman' }).expect(201);
      const dir = mkdtempSync(join(tmpdir(), 'newman-'));
      try {
        writeFileSync(join(dir, 'collection.json'), JSON.stringify(collection));
        const run = ChildApp.start(
          'newman',
          process.execPath,
          [
            NEWMAN,
            'run',
            join(dir, 'collection.json'),
            '--env-var',
            `baseUrl=${prism.url}`,
            '--env-var',
            `partnerUniqueId=${created.body.partnerUniqueId}`,
            '--env-var',
            `apiKey=${created.body.apiKey}`,
            '--env-var',
            `callbackUrl=${receiver.url}/postman`,
            '--reporters',
            'cli,json',
            '--reporter-json-export',
            join(dir, 'report.json'),
            '--disable-unicode',
            '--color',
            'off',
          ],
          { PATH: process.env.PATH, HOME: dir },
        );
        const exit = await run.exited;
        const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as NewmanReport;
        const executions = report.run.executions.map((execution) => ({
          request: `${execution.request.method} /${execution.request.url.path.join('/')}`,
          status: execution.response?.code,
          violations: JSON.parse(execution.response?.header.find((header) => header.key.toLowerCase() === 'sl-violations')?.value ?? '[]'),
          failed: (execution.assertions ?? []).filter((assertion) => assertion.error).map((assertion) => assertion.assertion),
        }));
        expect(executions.filter((execution) => execution.violations.length > 0 || execution.failed.length > 0)).toEqual([]);
        expect(report.run.failures.map((failure) => `${failure.source?.name}: ${failure.error.message}`)).toEqual([]);
        expect(exit).toEqual({ code: 0, signal: null });
        // Every request of the collection ran, the seed's flow first and in order, each answering its success status.
        const requests = (collection.item as Array<{ item: unknown[] }>).reduce((count, folder) => count + folder.item.length, 0);
        expect(executions).toHaveLength(requests);
        expect(executions.slice(0, 5).map((execution) => execution.status)).toEqual([201, 200, 202, 204, 200]);
        expect(executions.filter((execution) => execution.status === undefined || execution.status >= 500)).toEqual([]);
        // Every registration succeeds (the reference folders run against a registered callback).
        expect(executions.filter((execution) => execution.request.startsWith('PUT ') && execution.status! >= 300)).toEqual([]);
        // The echo reached the receiver registered through the collection.
        await receiver.waitFor(1, 30_000, (request) => request.path === '/postman');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  });
});
