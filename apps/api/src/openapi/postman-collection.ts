import type { OpenAPIObject, OperationObject } from '@nestjs/swagger';
import { convertV2 } from 'openapi-to-postmanv2';
import { NOTIFICATION_TYPES } from '@callbacks/contracts';

/*
 * The Postman collection, made from the OpenAPI document at build time (write-openapi.ts) by a
 * maintained converter (openapi-to-postmanv2, a dev dependency: the running API only serves the file).
 * The converter makes the requests (URLs, bodies from the document's examples, saved example
 * answers); this module arranges them into a collection a partner can run top to bottom.
 */

interface PostmanVariable {
  key: string;
  value: string;
  type?: string;
  description?: string;
  disabled?: boolean;
}

interface PostmanScript {
  listen: 'test' | 'prerequest';
  script: { type: 'text/javascript'; exec: string[] };
}

interface PostmanRequest {
  method: string;
  url: { path: string[]; host: string[]; query?: PostmanVariable[]; variable?: PostmanVariable[] };
  auth?: unknown;
  body?: { mode: string; raw?: string };
  header?: PostmanVariable[];
  description?: unknown;
}

export interface PostmanItem {
  id?: string;
  name: string;
  description?: unknown;
  request?: PostmanRequest;
  response?: unknown[];
  item?: PostmanItem[];
  event?: PostmanScript[];
}

export interface PostmanCollection {
  info: { name: string; description?: unknown; schema: string; _postman_id?: string };
  item: PostmanItem[];
  variable: PostmanVariable[];
  auth?: unknown;
  event?: PostmanScript[];
}

/** The seed's flow, in its order: register, list, echo, delete, log (the contract's routes). */
export const QUICK_START = [
  'PUT /{partnerUniqueID}/callbacks/{notificationType}',
  'GET /{partnerUniqueID}/callbacks',
  'POST /v1/callbacks/echo/{partnerUniqueID}/{notificationTypeID}',
  'DELETE /{partnerUniqueID}/callbacks/{notificationType}',
  'GET /{partnerUniqueID}/notifications',
];
export const QUICK_START_FOLDER = "Quick start: the seed's flow";
export const CLEAN_UP_FOLDER = 'Clean up';

/** Path parameters of the routes, by the collection variable that fills them. */
const PATH_VARIABLES: Record<string, string> = {
  partnerUniqueID: 'partnerUniqueId',
  notificationType: 'notificationTypeId',
  notificationTypeID: 'notificationTypeId',
  notificationId: 'notificationId',
};

/** Ids a response hands back that later requests use: the collection keeps the latest one. */
const CAPTURED = ['notificationId'];

/** A request runs after the ones that create what it reads, and deletes come last (the Clean up folder). */
const METHOD_ORDER = ['PUT', 'GET', 'POST', 'PATCH', 'DELETE'];

function variables(document: OpenAPIObject): PostmanVariable[] {
  const putCallback = document.components?.schemas?.PutCallbackDto as { properties?: { callbackUrl?: { example?: string } } } | undefined;
  const types = NOTIFICATION_TYPES.map((type) => `${type.id} (${type.name})`).join(', ');
  return [
    {
      key: 'baseUrl',
      value: 'http://localhost:3000',
      description: 'The API. /docs/postman.json sets it to the address it is served from.',
    },
    { key: 'partnerUniqueId', value: '', description: 'Your partner id (a UUID), from the operator.' },
    {
      key: 'apiKey',
      value: '',
      description: 'Your API key, sent as Authorization: Bearer. Keep it secret: prefer a Postman environment or vault.',
    },
    {
      key: 'notificationTypeId',
      value: String(NOTIFICATION_TYPES[0].id),
      description: `The notification type the requests use: ${types}.`,
    },
    {
      key: 'callbackUrl',
      value: putCallback?.properties?.callbackUrl?.example ?? 'https://partner.example.com/webhooks',
      description: 'Your HTTPS endpoint: the callback the requests register, and where the test echo is delivered.',
    },
    { key: 'notificationId', value: '', description: 'Set from the answer of the echo (and of any request that returns one).' },
  ];
}

function script(listen: PostmanScript['listen'], lines: string[]): PostmanScript {
  return { listen, script: { type: 'text/javascript', exec: lines } };
}

/** Runs after every request: keeps the ids that later requests use. */
const CAPTURE_SCRIPT = script('test', [
  "// Keep the ids the API hands back (e.g. the echo's notificationId) for the requests that follow.",
  'let body;',
  'try { body = pm.response.json(); } catch (notJson) { body = undefined; }',
  `for (const key of ${JSON.stringify(CAPTURED)}) {`,
  "  if (body && typeof body[key] === 'string') pm.collectionVariables.set(key, body[key]);",
  '}',
]);

function statusTest(title: string, statuses: number[]): PostmanScript {
  return script('test', [
    `pm.test(${JSON.stringify(title)}, function () {`,
    `  pm.expect(pm.response.code).to.be.oneOf(${JSON.stringify(statuses)});`,
    '});',
  ]);
}

interface Operation {
  method: string;
  path: string;
  operation: OperationObject & { 'x-audience'?: string };
}

function operations(document: OpenAPIObject): Map<string, Operation> {
  const byKey = new Map<string, Operation>();
  for (const [path, item] of Object.entries(document.paths))
    for (const [method, operation] of Object.entries(item as Record<string, OperationObject>))
      byKey.set(`${method.toUpperCase()} ${path}`, { method: method.toUpperCase(), path, operation });
  return byKey;
}

function statusesOf(operation: OperationObject, success: boolean): number[] {
  return Object.keys(operation.responses ?? {})
    .filter((status) => /^\d{3}$/.test(status))
    .map(Number)
    .filter((status) => !success || (status >= 200 && status < 300));
}

/** The document path of a converted request (`:partnerUniqueID` segments are `{partnerUniqueID}`). */
function pathOf(request: PostmanRequest): string {
  return `/${request.url.path.map((segment) => (segment.startsWith(':') ? `{${segment.slice(1)}}` : segment)).join('/')}`;
}

/** Fills path parameters, and body fields named like a collection variable, with that variable. */
function useVariables(request: PostmanRequest, collectionVariables: Set<string>): void {
  for (const variable of request.url.variable ?? []) {
    const name = PATH_VARIABLES[variable.key];
    if (name) variable.value = `{{${name}}}`;
  }
  if (request.body?.mode === 'raw' && request.body.raw) {
    const body: unknown = JSON.parse(request.body.raw);
    if (body && typeof body === 'object' && !Array.isArray(body)) {
      for (const key of Object.keys(body)) if (collectionVariables.has(key)) (body as Record<string, unknown>)[key] = `{{${key}}}`;
      request.body.raw = JSON.stringify(body, null, 2);
    }
  }
}

/**
 * A request sends the smallest valid body, the required fields of its schema (with the document's
 * examples): an optional field's example is for reading (a shortened CA certificate, a token URL
 * nobody answers), not part of a request that must succeed. The document lists the optional fields.
 */
function keepRequiredFields(request: PostmanRequest, operation: OperationObject, document: OpenAPIObject): void {
  const requestBody = operation.requestBody as { content?: Record<string, { schema?: { $ref?: string } }> } | undefined;
  const ref = requestBody?.content?.['application/json']?.schema?.$ref;
  const schema = ref ? (document.components?.schemas?.[ref.split('/').pop()!] as { required?: string[] } | undefined) : undefined;
  if (!schema?.required || request.body?.mode !== 'raw' || !request.body.raw) return;
  const body = JSON.parse(request.body.raw) as Record<string, unknown>;
  request.body.raw = JSON.stringify(
    Object.fromEntries(schema.required.filter((key) => key in body).map((key) => [key, body[key]])),
    null,
    2,
  );
}

function convert(document: OpenAPIObject): Promise<PostmanCollection> {
  return new Promise((resolve, reject) => {
    let settled = false;
    convertV2(
      { type: 'json', data: document },
      {
        folderStrategy: 'Tags',
        requestNameSource: 'Fallback',
        // Bodies and parameters from the document's examples; optional query parameters off.
        parametersResolution: 'Example',
        enableOptionalParameters: false,
        includeWebhooks: false,
      },
      (error, result) => {
        if (settled) return;
        settled = true;
        const data = result?.output?.[0]?.data;
        if (error || !result?.result || !data)
          reject(new Error(`openapi-to-postmanv2 failed: ${error?.message ?? result?.reason ?? 'no collection'}`));
        else resolve(data as PostmanCollection);
      },
    );
  });
}

/** The document a partner's collection is made from: its routes (no operator-only ones), no webhooks. */
function partnerDocument(document: OpenAPIObject): OpenAPIObject {
  const copy = structuredClone(document);
  delete copy.webhooks;
  for (const [path, item] of Object.entries(copy.paths)) {
    const operationsOfPath = item as Record<string, Operation['operation']>;
    for (const method of Object.keys(operationsOfPath))
      if (operationsOfPath[method]['x-audience'] === 'operator') delete operationsOfPath[method];
    if (Object.keys(operationsOfPath).length === 0) delete copy.paths[path];
  }
  return copy;
}

/**
 * The partner's Postman collection: every partner and public request of the document (operator-only
 * routes are left out), first the seed's flow in order, then the rest by tag, each folder ordered so
 * that the collection runs top to bottom, deletes last. Every request tests that it answered a
 * status the document gives it (the quick start: its success status).
 */
export async function toPostmanCollection(document: OpenAPIObject): Promise<PostmanCollection> {
  const converted = await convert(partnerDocument(document));
  const byKey = operations(document);
  const collectionVariables = variables(document);
  const names = new Set(collectionVariables.map((variable) => variable.key));
  const requestsByKey = new Map<string, PostmanItem>();
  const cleanUp: PostmanItem[] = [];

  const folders: PostmanItem[] = [];
  for (const folder of converted.item) {
    const requests: PostmanItem[] = [];
    for (const item of folder.item ?? (folder.request ? [folder] : [])) {
      if (!item.request) continue;
      const found = byKey.get(`${item.request.method} ${pathOf(item.request)}`);
      if (!found)
        throw new Error(`the converter made a request the document does not have: ${item.request.method} ${pathOf(item.request)}`);
      delete item.id;
      keepRequiredFields(item.request, found.operation, document);
      useVariables(item.request, names);
      const isPublic = Array.isArray(found.operation.security) && found.operation.security.length === 0;
      // The collection's bearer {{apiKey}} applies to every request but the public ones.
      if (isPublic) item.request.auth = { type: 'noauth' };
      else delete item.request.auth;
      requestsByKey.set(`${found.method} ${found.path}`, item);
      item.event = [statusTest(`${found.method} ${found.path} answers as documented`, statusesOf(found.operation, false))];
      (found.method === 'DELETE' ? cleanUp : requests).push(item);
    }
    requests.sort((a, b) => METHOD_ORDER.indexOf(a.request!.method) - METHOD_ORDER.indexOf(b.request!.method));
    if (requests.length > 0) folders.push({ name: folder.name, description: folder.description, item: requests });
  }

  const quickStart = QUICK_START.map((key, index) => {
    const item = requestsByKey.get(key);
    const found = byKey.get(key);
    if (!item || !found) throw new Error(`the quick start's ${key} is not in the document`);
    const copy = structuredClone(item);
    copy.name = `${index + 1}. ${item.name}`;
    copy.event = [statusTest(`${index + 1}. ${found.method} ${found.path} succeeds`, statusesOf(found.operation, true))];
    return copy;
  });

  return {
    info: {
      name: converted.info.name,
      schema: converted.info.schema,
      description:
        'Generated from the OpenAPI document (/docs-json). Set partnerUniqueId and apiKey (and callbackUrl, your receiver), then run it top to bottom: ' +
        "first the seed's flow (register a callback, list, send a test echo, delete, read the delivery log), then every other partner request " +
        'by topic, deletes last. Every request checks that it got an answer the document describes. Operator-only routes are not in it.',
    },
    auth: { type: 'bearer', bearer: [{ key: 'token', value: '{{apiKey}}', type: 'string' }] },
    event: [CAPTURE_SCRIPT],
    variable: collectionVariables,
    item: [
      {
        name: QUICK_START_FOLDER,
        description: 'Register a callback, list the callbacks, send a test echo to it, delete it, read the delivery log.',
        item: quickStart,
      },
      ...folders,
      ...(cleanUp.length > 0 ? [{ name: CLEAN_UP_FOLDER, description: 'Deletes what the requests above created.', item: cleanUp }] : []),
    ],
  };
}
