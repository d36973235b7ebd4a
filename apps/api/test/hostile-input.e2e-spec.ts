import { ADMIN, type ApiTestApp, startApiTestApp, type TestPartner } from './api-test-app';

interface Case {
  name: string;
  method: 'get' | 'put' | 'post' | 'delete';
  path: (partner: string) => string;
  as?: 'admin' | 'partner';
  body?: unknown;
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
  status: number;
}

const URL_OK = 'https://partner.example.com/hook';
const nested = (depth: number, leaf: unknown): unknown => (depth === 0 ? leaf : { child: nested(depth - 1, leaf) });
const put = (name: string, body: unknown, status = 400): Case => ({ name, method: 'put', path: (p) => `/${p}/callbacks/5`, body, status });
const partnerCreate = (name: string, body: unknown): Case => ({
  name,
  method: 'post',
  path: () => '/admin/partners',
  as: 'admin',
  body,
  status: 400,
});
const get = (name: string, path: (p: string) => string, status = 400): Case => ({ name, method: 'get', path, status });
const echo = (name: string, body: unknown, status = 400): Case => ({
  name,
  method: 'post',
  path: (p) => `/v1/callbacks/echo/${p}/5`,
  body,
  status,
});
const publish = (name: string, body: (p: string) => unknown, headers?: Record<string, string>): Case => ({
  name,
  method: 'post',
  path: () => '/v1/notifications',
  as: 'admin',
  body,
  headers,
  status: 400,
});

const CASES: Case[] = [
  put('callbackUrl null', { callbackUrl: null }),
  put('callbackUrl array', { callbackUrl: [URL_OK] }),
  put('callbackUrl object', { callbackUrl: {} }),
  put('callbackUrl number', { callbackUrl: 42 }),
  put('callbackUrl with a NUL byte', { callbackUrl: `${URL_OK}\u0000` }),
  put('javascript: URL', { callbackUrl: 'javascript:alert(1)' }),
  put('file: URL', { callbackUrl: 'file:///etc/passwd' }),
  put('gopher: URL', { callbackUrl: 'gopher://partner.example.com:70/_' }),
  put('IPv4-mapped metadata address', { callbackUrl: 'https://[::ffff:169.254.169.254]/latest' }),
  put('octal loopback', { callbackUrl: 'https://0177.0.0.1/hook' }),
  put('hex loopback', { callbackUrl: 'https://0x7f000001/hook' }),
  put('decimal loopback', { callbackUrl: 'https://2130706433/hook' }),
  put('trailing-dot localhost', { callbackUrl: 'https://localhost./hook' }),
  put('private 192.168', { callbackUrl: 'https://192.168.0.10/hook' }),
  put('CGNAT', { callbackUrl: 'https://100.64.1.1/hook' }),
  put('unspecified 0.0.0.0', { callbackUrl: 'https://0.0.0.0/hook' }),
  put('credentials in URL', { callbackUrl: 'https://admin:secret@partner.example.com/hook' }),
  put('huge host name', { callbackUrl: `https://${'a'.repeat(3000)}.example.com/` }),
  put('header value with CRLF injection', { callbackUrl: URL_OK, headers: { 'X-A': 'v\r\nX-Injected: 1' } }),
  put('header value with NUL', { callbackUrl: URL_OK, headers: { 'X-A': 'v\u0000' } }),
  put('header named __proto__', { callbackUrl: URL_OK, headers: JSON.parse('{"__proto__":"x"}') }),
  put('header as a string', { callbackUrl: URL_OK, headers: 'X-A: b' }),
  put('100 headers', { callbackUrl: URL_OK, headers: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`X-H${i}`, 'v'])) }),
  put('header name with a space', { callbackUrl: URL_OK, headers: { 'X A': 'v' } }),
  put('unicode header name', { callbackUrl: URL_OK, headers: { 'X-Ünïcode': 'v' } }),
  put('enabled as a string', { callbackUrl: URL_OK, enabled: 'true' }),
  put('enabled as a number', { callbackUrl: URL_OK, enabled: 1 }),
  put('__proto__ at the top', JSON.parse(`{"__proto__":{"isAdmin":true},"callbackUrl":"${URL_OK}"}`)),
  put('constructor.prototype', { callbackUrl: URL_OK, constructor: { prototype: { polluted: true } } }),
  put('unknown field', { callbackUrl: URL_OK, signingSecret: 'whsec_mine' }),
  put('body nested 100 levels', nested(100, URL_OK)),
  put('body is an array', [URL_OK]),
  {
    name: 'body is a bare string',
    method: 'put',
    path: (p) => `/${p}/callbacks/5`,
    raw: '"https://partner.example.com"',
    contentType: 'application/json',
    status: 400,
  },
  { name: 'body is null', method: 'put', path: (p) => `/${p}/callbacks/5`, raw: 'null', contentType: 'application/json', status: 400 },
  {
    name: 'truncated JSON',
    method: 'put',
    path: (p) => `/${p}/callbacks/5`,
    raw: '{"callbackUrl":"https://',
    contentType: 'application/json',
    status: 400,
  },
  {
    name: 'form-encoded body',
    method: 'put',
    path: (p) => `/${p}/callbacks/5`,
    raw: 'callbackUrl=https://x',
    contentType: 'application/x-www-form-urlencoded',
    status: 415,
  },
  { name: 'XML body', method: 'put', path: (p) => `/${p}/callbacks/5`, raw: '<callbackUrl/>', contentType: 'application/xml', status: 415 },
  {
    name: 'body over 256 KiB',
    method: 'put',
    path: (p) => `/${p}/callbacks/5`,
    body: { callbackUrl: URL_OK, headers: { 'X-Big': 'x'.repeat(300_000) } },
    status: 413,
  },
  partnerCreate('partner name empty', { name: '' }),
  partnerCreate('partner name null', { name: null }),
  partnerCreate('partner name too long', { name: 'x'.repeat(201) }),
  partnerCreate('partner name with NUL', { name: 'Acme\u0000' }),
  partnerCreate('partner name object', { name: { first: 'A' } }),
  partnerCreate('partner name array', { name: ['Acme'] }),
  partnerCreate('partner __proto__', JSON.parse('{"__proto__":{"polluted":1},"name":"x"}')),
  partnerCreate('partner extra field', { name: 'x', plan: 'gold' }),
  get('partner id not a UUID', () => '/not-a-uuid/callbacks'),
  get('partner id SQL fragment', () => `/${encodeURIComponent("' OR 1=1 --")}/callbacks`),
  get('type with SQL fragment', (p) => `/${p}/callbacks/${encodeURIComponent('5 OR 1=1')}`),
  get('negative type', (p) => `/${p}/callbacks/-1`),
  get('exponent type', (p) => `/${p}/callbacks/1e1`),
  get('hex type', (p) => `/${p}/callbacks/0x5`),
  get('unicode digits type', (p) => `/${p}/callbacks/${encodeURIComponent('５')}`),
  get('negative limit', (p) => `/${p}/callbacks?limit=-1`),
  get('limit with SQL', (p) => `/${p}/callbacks?limit=${encodeURIComponent('1;DROP TABLE callbacks')}`),
  get('huge offset', (p) => `/${p}/callbacks?offset=99999999999999999999999`),
  get('array-style query', (p) => `/${p}/callbacks?limit[]=1`),
  get('forged cursor', (p) => `/${p}/notifications?cursor=${encodeURIComponent("' OR '1'='1")}`),
  get('status with SQL', (p) => `/${p}/notifications?status=${encodeURIComponent("pending' OR 1=1 --")}`),
  get('notification id not a UUID', (p) => `/${p}/notifications/${encodeURIComponent('1 OR 1=1')}`),
  echo('echo id with NUL', { processUniqueId: 'p\u0000' }),
  echo('echo payload nested 40 levels', { processUniqueId: 'p', deep: nested(40, 1) }),
  echo('echo __proto__ key', JSON.parse('{"__proto__":{"polluted":1},"processUniqueId":"p"}')),
  echo('echo id is a number', { processUniqueId: 12345 }),
  echo('echo id too long', { processUniqueId: 'x'.repeat(129) }),
  echo('echo id is an array', { processUniqueId: ['p'] }),
  echo('echo both ids', { processUniqueId: 'p', simulationUniqueId: 's' }),
  echo('echo neither id', { status: 'approved' }),
  publish('event payload null', (p) => ({ partnerUniqueId: p, notificationTypeId: 5, payload: null })),
  publish('event type 5.5', (p) => ({ partnerUniqueId: p, notificationTypeId: 5.5, payload: { processUniqueId: 'p' } })),
  publish('event type 1e308', (p) => ({ partnerUniqueId: p, notificationTypeId: 1e308, payload: { processUniqueId: 'p' } })),
  publish('event partner SQL', () => ({ partnerUniqueId: "' OR 1=1 --", notificationTypeId: 5, payload: { processUniqueId: 'p' } })),
  publish(
    'event Idempotency-Key of 300 characters',
    (p) => ({ partnerUniqueId: p, notificationTypeId: 5, payload: { processUniqueId: 'p' } }),
    { 'Idempotency-Key': 'k'.repeat(300) },
  ),
  publish('event payload with prototype key', (p) => ({
    partnerUniqueId: p,
    notificationTypeId: 5,
    payload: JSON.parse('{"processUniqueId":"p","constructor":{"prototype":{"x":1}}}'),
  })),
  {
    name: 'oversized bearer token',
    method: 'get',
    path: (p) => `/${p}/callbacks`,
    headers: { Authorization: `Bearer ${'x'.repeat(600)}` },
    status: 401,
  },
  {
    name: 'operator key in the query string',
    method: 'get',
    path: (p) => `/${p}/callbacks?access_token=${encodeURIComponent(ADMIN.Authorization.slice(7))}`,
    headers: { Authorization: '' },
    status: 401,
  },
];

describe('hostile input: every bad request gets a 4xx problem and changes nothing', () => {
  let api: ApiTestApp;
  let partner: TestPartner;
  let before: Record<string, string>;

  beforeAll(async () => {
    api = await startApiTestApp();
    partner = await api.createPartner();
    await api.http.put(`/${partner.partnerUniqueId}/callbacks/5`).set(partner.auth).send({ callbackUrl: URL_OK }).expect(201);
    before = await api.tableContents();
  });
  afterAll(() => api.close());

  it.each(CASES.map((testCase) => [testCase.name, testCase] as const))('%s', async (_name, testCase) => {
    let call = api.http[testCase.method](testCase.path(partner.partnerUniqueId)).set(testCase.as === 'admin' ? ADMIN : partner.auth);
    if (testCase.headers) call = call.set(testCase.headers);
    if (testCase.raw !== undefined) call = call.set('Content-Type', testCase.contentType ?? 'application/json').send(testCase.raw);
    else if (testCase.body !== undefined)
      call = call.send(typeof testCase.body === 'function' ? testCase.body(partner.partnerUniqueId) : (testCase.body as object));
    const response = await call;
    expect({ status: response.status, type: response.headers['content-type'] }).toEqual({
      status: testCase.status,
      type: expect.stringMatching(/^application\/problem\+json/),
    });
    expect(response.body.detail).toEqual(expect.any(String));
    expect(JSON.stringify(response.body)).not.toMatch(/QueryFailedError|at \S+\.(js|ts):\d+|SELECT |syntax error/);
    expect(await api.tableContents()).toEqual(before);
    expect(({} as Record<string, unknown>).polluted ?? ({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });
});
