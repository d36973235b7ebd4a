import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { NOTIFICATION_TYPES, OPERATOR_EVENTS } from '@callbacks/contracts';
import { CLEAN_UP_FOLDER, type PostmanItem, QUICK_START, QUICK_START_FOLDER, toPostmanCollection } from '../src/openapi/postman-collection';
import { type ApiTestApp, startApiTestApp } from './api-test-app';

const root = join(__dirname, '..', '..', '..');
const REDOCLY = join(root, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');
/** The one documented lint ignore; it names the document's path relative to itself: dist/openapi.json. */
const IGNORE_FILE = '.redocly.lint-ignore.yaml';

interface LintReport {
  totals: { errors: number; warnings: number; ignored: number };
  problems: Array<{ ruleId: string; severity: string; message: string; location: Array<{ pointer: string }> }>;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every node of a JSON value, with its JSON pointer. */
function* walk(value: unknown, pointer = ''): Generator<[string, unknown]> {
  yield [pointer, value];
  if (value && typeof value === 'object')
    for (const [key, child] of Object.entries(value)) yield* walk(child, `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`);
}

describe('the OpenAPI document', () => {
  let api: ApiTestApp;
  let document: Json;

  beforeAll(async () => {
    api = await startApiTestApp();
    document = (await api.http.get('/docs-json').expect(200)).body;
  });

  afterAll(() => api.close());

  it('passes redocly lint (recommended rules) with no error and no warning', async () => {
    // Each run lints in its own directory (two runs never share a file): the document goes to
    // dist/openapi.json there, beside a copy of the ignore file, whose entries are relative to it.
    const runDir = mkdtempSync(join(tmpdir(), 'openapi-lint-'));
    try {
      mkdirSync(join(runDir, 'dist'));
      writeFileSync(join(runDir, 'dist', 'openapi.json'), JSON.stringify(document, null, 2));
      copyFileSync(join(root, IGNORE_FILE), join(runDir, IGNORE_FILE));
      const run = spawnSync(process.execPath, [REDOCLY, 'lint', 'dist/openapi.json', '--format=json'], {
        cwd: runDir,
        encoding: 'utf8',
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
        timeout: 60_000,
      });
      const report = JSON.parse(run.stdout) as LintReport;
      const problems = report.problems.map(
        (problem) => `${problem.severity} ${problem.ruleId} at ${problem.location[0]?.pointer}: ${problem.message}`,
      );
      expect(problems).toEqual([]);
      expect(report.totals).toEqual({ errors: 0, warnings: 0, ignored: 1 });
      expect(run.status).toBe(0);
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
  });

  it('declares how to call it: a server, a license, and the bearer key on every operation but the public ones', async () => {
    expect(document.servers).toEqual([{ url: '/', description: expect.any(String) }]);
    expect(document.info.license).toEqual({ name: 'MIT', url: 'https://spdx.org/licenses/MIT.html' });
    expect(document.security).toEqual([{ bearer: [] }]);
    const publicOperations = Object.entries(document.paths as Record<string, Record<string, { security?: unknown[] }>>).flatMap(
      ([path, operations]) =>
        Object.entries(operations)
          .filter(([, operation]) => Array.isArray(operation.security) && operation.security.length === 0)
          .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(publicOperations.sort()).toEqual(['GET /health', 'GET /health/ready', 'GET /metrics']);
  });

  it('is OpenAPI 3.1 with JSON Schema 2020-12 schemas: no 3.0 nullable anywhere', () => {
    expect(document.openapi).toBe('3.1.0');
    const nullable = [...walk(document)].filter(([pointer]) => pointer.endsWith('/nullable')).map(([pointer]) => pointer);
    expect(nullable).toEqual([]);
    expect(document.components.schemas.NotificationSummaryDto.properties.lastAttemptAt.type).toEqual(['string', 'null']);
  });

  it("types the echo and platform-event payloads by the catalog's schemas, the very ones that validate at intake", () => {
    for (const type of NOTIFICATION_TYPES) {
      const { title } = type.payloadSchema;
      expect(document.components.schemas[title]).toEqual(type.payloadSchema);
      expect(document.components.schemas[title].oneOf).toEqual([{ required: ['processUniqueId'] }, { required: ['simulationUniqueId'] }]);
      expect(document.components.schemas[title].description).toMatch(/Exactly one of processUniqueId or simulationUniqueId/);
    }
    const refs = NOTIFICATION_TYPES.map((type) => ({ $ref: `#/components/schemas/${type.payloadSchema.title}` }));
    const echo = document.paths['/v1/callbacks/echo/{partnerUniqueID}/{notificationTypeID}'].post.requestBody.content['application/json'];
    expect(echo.schema.anyOf).toEqual(refs);
    expect(Object.keys(echo.examples)).toEqual(NOTIFICATION_TYPES.map((type) => type.name));
    const publish = document.components.schemas.PublishNotificationDto;
    expect(publish.properties.payload.anyOf).toEqual(refs);
    // The payload is bound to the type named beside it.
    expect(publish.oneOf.map((variant: Json) => [variant.properties.notificationTypeId.const, variant.properties.payload])).toEqual(
      NOTIFICATION_TYPES.map((type, i) => [type.id, refs[i]]),
    );
    expect(document.components.schemas.PublishNotificationBatchItemDto.oneOf).toEqual(publish.oneOf);
  });

  it('has a webhooks entry per notification type and per operator event, the latter marked for operators', () => {
    expect(Object.keys(document.webhooks)).toEqual([
      ...NOTIFICATION_TYPES.map((type) => type.name),
      ...OPERATOR_EVENTS.map((event) => event.type),
    ]);
    const headers = (operation: Json) =>
      operation.parameters.map((parameter: Json) => document.components.parameters[parameter.$ref.split('/').pop()]);
    for (const type of NOTIFICATION_TYPES) {
      const operation = document.webhooks[type.name].post;
      expect(operation['x-audience']).toBe('partner');
      const envelope = document.components.schemas[operation.requestBody.content['application/json'].schema.$ref.split('/').pop()];
      expect(envelope.required).toEqual(['type', 'notificationTypeId', 'timestamp', 'partnerUniqueId', 'test', 'data']);
      expect(envelope.properties.data.$ref).toBe(`#/components/schemas/${type.payloadSchema.title}`);
      expect(envelope.properties).toMatchObject({ type: { const: type.name }, notificationTypeId: { const: type.id }, sequence: {} });
      expect(
        headers(operation)
          .filter((header: Json) => header.required)
          .map((header: Json) => header.name),
      ).toEqual(['webhook-id', 'webhook-timestamp', 'webhook-signature', 'user-agent']);
      expect(Object.keys(operation.responses).sort()).toEqual(['2XX', '410', '429', '503', 'default']);
      expect(operation.responses['429'].headers['Retry-After']).toBeDefined();
    }
    for (const event of OPERATOR_EVENTS) {
      const operation = document.webhooks[event.type].post;
      expect(operation).toMatchObject({ 'x-audience': 'operator', tags: ['Operator events'] });
      expect(Object.keys(operation.responses).sort()).toEqual(['2XX', '429', '503', 'default']);
    }
    const signature = document.components.parameters.WebhookSignature;
    const pattern = new RegExp(signature.schema.pattern);
    expect(Object.values(signature.examples).every((example) => pattern.test((example as { value: string }).value))).toBe(true);
    expect(pattern.test('v1a,' + 'A'.repeat(86) + '==')).toBe(true);
    expect(pattern.test('v2,abc')).toBe(false);
  });

  it('marks the operator-only routes x-audience: operator', () => {
    const operator = Object.entries(document.paths as Record<string, Record<string, Json>>).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([, operation]) => operation['x-audience'] === 'operator')
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(operator).toEqual(expect.arrayContaining(['POST /admin/partners', 'POST /v1/notifications', 'POST /v1/notifications/batch']));
    expect(document.paths['/{partnerUniqueID}/callbacks/{notificationType}'].put['x-audience']).toBe('partner');
  });

  it('every example in it is valid by its own schema (JSON Schema 2020-12, formats checked)', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(document, 'openapi.json');
    const invalid: string[] = [];
    const check = (schemaPointer: string, example: unknown, where: string) => {
      const validate = ajv.getSchema(`openapi.json#${schemaPointer}`);
      if (!validate) throw new Error(`no schema at ${schemaPointer}`);
      if (!validate(example)) invalid.push(`${where}: ${ajv.errorsText(validate.errors)}`);
    };
    let checked = 0;
    for (const [pointer, node] of walk(document)) {
      if (!node || typeof node !== 'object') continue;
      const value = node as Json;
      // Schema-level examples (3.1) of components.
      if (/^\/components\/schemas\/[^/]+$/.test(pointer) && Array.isArray(value.examples)) {
        value.examples.forEach((example: unknown, i: number) => check(pointer, example, `${pointer}/examples/${i}`));
        checked += value.examples.length;
      }
      // Media-type examples of request bodies.
      if (pointer.endsWith('/requestBody/content/application~1json') && value.examples && value.schema) {
        for (const [name, example] of Object.entries(value.examples as Record<string, { value: unknown }>)) {
          check(`${pointer}/schema`, example.value, `${pointer}/examples/${name}`);
          checked++;
        }
      }
    }
    expect(invalid).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(NOTIFICATION_TYPES.length * 4 + OPERATOR_EVENTS.length);
  });

  it("makes the Postman collection: the seed's flow first, then every partner and public request once, deletes last, no operator route", async () => {
    const collection = await toPostmanCollection(document as never);
    expect(collection.variable.map((variable) => variable.key)).toEqual(
      expect.arrayContaining(['baseUrl', 'partnerUniqueId', 'apiKey', 'notificationTypeId', 'callbackUrl', 'notificationId']),
    );
    expect(collection.auth).toEqual({ type: 'bearer', bearer: [{ key: 'token', value: '{{apiKey}}', type: 'string' }] });
    const key = (item: PostmanItem) =>
      `${item.request!.method} /${item.request!.url.path.map((segment) => segment.replace(/^:(.*)$/, '{$1}')).join('/')}`;
    const [quickStart, ...rest] = collection.item;
    expect(quickStart.name).toBe(QUICK_START_FOLDER);
    expect(quickStart.item!.map(key)).toEqual(QUICK_START);
    expect(rest[rest.length - 1].name).toBe(CLEAN_UP_FOLDER);
    expect(rest[rest.length - 1].item!.every((item) => item.request!.method === 'DELETE')).toBe(true);
    const requests = rest.flatMap((folder) => folder.item!.map(key));
    const documented = Object.entries(document.paths as Record<string, Record<string, Json>>).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([, operation]) => operation['x-audience'] !== 'operator')
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect([...requests].sort()).toEqual([...documented].sort());
    // Requests use the collection's variables; the ones that need no key say so.
    const put = quickStart.item![0].request!;
    expect(put.url.variable!.map((variable) => variable.value)).toEqual(['{{partnerUniqueId}}', '{{notificationTypeId}}']);
    expect(JSON.parse(put.body!.raw!)).toEqual({ callbackUrl: '{{callbackUrl}}' });
    const recover = rest.flatMap((folder) => folder.item!).find((item) => key(item).endsWith('/recover'))!.request!;
    expect(Object.keys(JSON.parse(recover.body!.raw!))).toEqual(['since']);
    expect(
      rest
        .flatMap((folder) => folder.item!)
        .filter((item) => item.request!.auth)
        .map(key)
        .sort(),
    ).toEqual(['GET /health', 'GET /health/ready', 'GET /metrics']);
  }, 60_000);
});
