import type { AddressInfo } from 'node:net';
import { TestReceiver } from '@callbacks/testing';
import { PRISM_ERROR, type PrismProxy, startPrismProxy } from './support/prism';
import { ADMIN, TestSystem } from './support/system';

interface Exchange {
  call: string;
  status: number;
  /** What Prism found wrong with the response (it checks status, headers and body against the document). */
  responseViolations: unknown[];
  requestViolations: unknown[];
  /** Set when Prism answered itself instead of passing the API's response on. */
  prismError?: string;
  body: unknown;
}

/**
 * The seed's flows through Prism's validating proxy (`prism proxy <document> <api> --errors`), in
 * front of the running API with a worker: every response must be one the document describes.
 */
describe('the OpenAPI document describes every response of the seed flows (Prism validating proxy)', () => {
  let system: TestSystem;
  let receiver: TestReceiver;
  let prism: PrismProxy;
  let proxyUrl: string;
  const exchanges: Exchange[] = [];

  async function call(
    method: string,
    path: string,
    options: { auth?: string; body?: unknown; contentType?: string } = {},
  ): Promise<Exchange> {
    const headers: Record<string, string> = {};
    if (options.auth) headers.authorization = options.auth;
    if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const response = await fetch(`${proxyUrl}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
    });
    const text = await response.text();
    const body: unknown = (response.headers.get('content-type') ?? '').includes('json') && text ? JSON.parse(text) : text;
    const violations = JSON.parse(response.headers.get('sl-violations') ?? '[]') as Array<{ location: string[] }>;
    const type = (body as { type?: unknown } | null)?.type;
    const exchange: Exchange = {
      call: `${method} ${path}`,
      status: response.status,
      responseViolations: violations.filter((violation) => violation.location[0] === 'response'),
      requestViolations: violations.filter((violation) => violation.location[0] === 'request'),
      ...(typeof type === 'string' && type.startsWith(PRISM_ERROR) ? { prismError: type.slice(PRISM_ERROR.length) } : {}),
      body,
    };
    exchanges.push(exchange);
    return exchange;
  }

  const unexpected: Array<{ call: string; expected: string; got: string }> = [];

  /** A call of the flows that the document allows: the API's answer has this status (checked at the end). */
  async function expectCall(
    status: number,
    method: string,
    path: string,
    options?: { auth?: string; body?: unknown; contentType?: string },
  ): Promise<Exchange> {
    const exchange = await call(method, path, options);
    if (exchange.status !== status || exchange.prismError)
      unexpected.push({ call: exchange.call, expected: String(status), got: `${exchange.status} ${exchange.prismError ?? ''}`.trim() });
    return exchange;
  }

  /** A bad request that the document itself rules out (a parameter outside its schema): Prism refuses it with 422. */
  async function documentRefuses(method: string, path: string, options?: { auth?: string; body?: unknown }): Promise<void> {
    const exchange = await call(method, path, options);
    if (exchange.prismError !== 'UNPROCESSABLE_ENTITY')
      unexpected.push({
        call: exchange.call,
        expected: 'refused by the document',
        got: `${exchange.status} ${exchange.prismError ?? ''}`.trim(),
      });
  }

  beforeAll(async () => {
    system = await TestSystem.start({}, 1);
    receiver = await TestReceiver.start();
    await system.api.listen(0, '127.0.0.1');
    const apiUrl = `http://127.0.0.1:${(system.api.getHttpServer().address() as AddressInfo).port}`;
    const { body: document } = await system.http.get('/docs-json').expect(200);
    // The control: in the proxy's copy, GET /health promises a field the API never sends.
    document.paths['/health'].get.responses['200'].content['application/json'].schema = { type: 'object', required: ['notSent'] };
    prism = await startPrismProxy(document, apiUrl, { errors: true });
    proxyUrl = prism.url;
  }, 90_000);

  afterAll(async () => {
    await prism?.stop();
    await receiver?.close();
    await system?.close();
  });

  it('the proxy does catch a response the document does not describe (the control)', async () => {
    const exchange = await call('GET', '/health');
    expect(exchange).toMatchObject({ status: 500, prismError: 'VIOLATIONS' });
    exchanges.pop();
  });

  it('partners and keys, callback CRUD and secrets, the echo and its errors, the delivery log and redeliver', async () => {
    const admin = ADMIN.Authorization;
    const { body: created } = await expectCall(201, 'POST', '/admin/partners', { auth: admin, body: { name: 'Acme' } });
    const { partnerUniqueId: id, apiKey } = created as { partnerUniqueId: string; apiKey: string };
    const key = `Bearer ${apiKey}`;
    const { body: other } = await expectCall(201, 'POST', '/admin/partners', { auth: admin, body: { name: 'Other' } });
    const otherId = (other as { partnerUniqueId: string }).partnerUniqueId;
    const { body: issued } = await expectCall(201, 'POST', `/admin/partners/${id}/api-keys`, { auth: admin });
    await expectCall(400, 'POST', '/admin/partners', { auth: admin, body: { name: '' } });
    await expectCall(403, 'POST', '/admin/partners', { auth: key, body: { name: 'Nope' } });

    // Callbacks: create, replace, read, list, secrets, and the errors.
    await expectCall(201, 'PUT', `/${id}/callbacks/5`, { auth: key, body: { callbackUrl: receiver.url, headers: { 'X-Env': 'test' } } });
    await expectCall(200, 'PUT', `/${id}/callbacks/5`, { auth: key, body: { callbackUrl: `${receiver.url}/hooks`, enabled: true } });
    await expectCall(400, 'PUT', `/${id}/callbacks/5`, { auth: key, body: { callbackUrl: 'ftp://example.com/x' } });
    await expectCall(400, 'PUT', `/${id}/callbacks/5`, { auth: key, body: { callbackUrl: receiver.url, headers: { 'webhook-id': 'x' } } });
    await expectCall(200, 'GET', `/${id}/callbacks/5`, { auth: key });
    await expectCall(200, 'GET', `/${id}/callbacks?offset=0&limit=10`, { auth: key });
    await documentRefuses('GET', `/${id}/callbacks?limit=500`, { auth: key });
    await expectCall(404, 'GET', `/${id}/callbacks/6`, { auth: key });
    await documentRefuses('GET', `/${id}/callbacks/9`, { auth: key });
    await documentRefuses('GET', '/not-a-uuid/callbacks', { auth: key });
    await expectCall(403, 'GET', `/${otherId}/callbacks`, { auth: key });
    await expectCall(401, 'GET', `/${id}/callbacks`, { auth: 'Bearer pck_not-a-key' });
    await expectCall(200, 'GET', `/${id}/callbacks/5/secret`, { auth: key });
    await expectCall(200, 'POST', `/${id}/callbacks/5/secret/rotate`, { auth: key });

    // The echo and its errors.
    const { body: accepted } = await expectCall(202, 'POST', `/v1/callbacks/echo/${id}/5`, {
      auth: key,
      body: { processUniqueId: 'PRC-1', status: 'approved' },
    });
    // The document states the one-of rule (the catalog's schemas), so Prism refuses both and neither itself.
    await documentRefuses('POST', `/v1/callbacks/echo/${id}/5`, {
      auth: key,
      body: { processUniqueId: 'PRC-1', simulationUniqueId: 'SIM-1' },
    });
    await documentRefuses('POST', `/v1/callbacks/echo/${id}/5`, { auth: key, body: { status: 'approved' } });
    await documentRefuses('POST', `/v1/callbacks/echo/${id}/8`, { auth: key, body: { processUniqueId: 'PRC-1' } });
    await expectCall(404, 'POST', `/v1/callbacks/echo/${id}/6`, { auth: key, body: { processUniqueId: 'PRC-1' } });
    await expectCall(403, 'POST', `/v1/callbacks/echo/${otherId}/5`, { auth: key, body: { processUniqueId: 'PRC-1' } });

    // Platform events (operator key).
    await expectCall(202, 'POST', '/v1/notifications', {
      auth: admin,
      body: { partnerUniqueId: id, notificationTypeId: 5, payload: { simulationUniqueId: 'SIM-9' } },
    });
    await expectCall(202, 'POST', '/v1/notifications', {
      auth: admin,
      body: { partnerUniqueId: id, notificationTypeId: 7, payload: { processUniqueId: 'PRC-2' } },
    });
    await expectCall(403, 'POST', '/v1/notifications', {
      auth: key,
      body: { partnerUniqueId: id, notificationTypeId: 5, payload: { processUniqueId: 'PRC-3' } },
    });

    // The delivery log, once the worker has delivered the echo.
    const { notificationId } = accepted as { notificationId: string };
    await system.waitForStatus({ partnerUniqueId: id, auth: { Authorization: key } }, notificationId, 'delivered');
    await expectCall(200, 'GET', `/${id}/notifications`, { auth: key });
    await expectCall(200, 'GET', `/${id}/notifications?status=delivered&notificationTypeId=5&limit=1`, { auth: key });
    await documentRefuses('GET', `/${id}/notifications?status=lost`, { auth: key });
    await expectCall(200, 'GET', `/${id}/notifications/${notificationId}`, { auth: key });
    await expectCall(404, 'GET', `/${id}/notifications/0d9b7c2e-1f3a-4b5c-8d6e-7f8091a2b3c4`, { auth: key });

    // Redeliver, then the callback and the key go.
    await expectCall(202, 'POST', `/${id}/notifications/${notificationId}/redeliver`, { auth: key });
    await expectCall(404, 'POST', `/${id}/notifications/0d9b7c2e-1f3a-4b5c-8d6e-7f8091a2b3c4/redeliver`, { auth: key });
    await expectCall(204, 'DELETE', `/${id}/callbacks/5`, { auth: key });
    await expectCall(404, 'DELETE', `/${id}/callbacks/5`, { auth: key });
    await expectCall(204, 'DELETE', `/admin/partners/${id}/api-keys/${(issued as { apiKeyId: string }).apiKeyId}`, { auth: admin });

    // Operations.
    await expectCall(200, 'GET', '/health/ready');
    await expectCall(200, 'GET', '/metrics');

    expect(unexpected).toEqual([]);
    const undescribed = exchanges
      .filter((exchange) => exchange.responseViolations.length > 0)
      .map(({ call, status, responseViolations }) => ({ call, status, responseViolations }));
    expect(undescribed).toEqual([]);
    // Requests the flows send as valid are valid by the document too (the error cases are not, on purpose).
    const validRequests = exchanges.filter((exchange) => exchange.status < 300);
    expect(
      validRequests
        .filter((exchange) => exchange.requestViolations.length > 0)
        .map(({ call, requestViolations }) => ({ call, requestViolations })),
    ).toEqual([]);
  });
});
