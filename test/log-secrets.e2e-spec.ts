import { randomBytes } from 'node:crypto';
import { listeningPort, TestReceiver, waitUntil } from '@callbacks/testing';
import { BUILT_API, BUILT_WORKER, startBuiltApp } from './support/processes';
import { ADMIN, TestSystem } from './support/system';

/**
 * The built API and worker at the most verbose log level, driven through everything that handles a
 * callback's custom header values (often partners' own tokens): registration, update, a refused
 * update, deliveries that fail and succeed. Not one of those values, nor a key or secret, may appear
 * in either process's output.
 */
describe('logs: no header value, key or secret at any log level', () => {
  it('keeps custom header values, signing secrets and API keys out of both processes’ logs', async () => {
    const system = await TestSystem.start({}, 0);
    const receiver = (await TestReceiver.start()).replyWith(500);
    const env = { ...system.environment.env, LOG_LEVEL: 'trace', PORT: '0' };
    const api = startBuiltApp(BUILT_API, env);
    const worker = startBuiltApp(BUILT_WORKER, env);
    let port = 0;
    const tokens = Array.from({ length: 3 }, () => `tok_${randomBytes(12).toString('hex')}`);
    const call = async (method: string, path: string, body?: unknown, auth = ADMIN.Authorization) => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: { authorization: auth, 'content-type': 'application/json', 'x-partner-probe': tokens[0] },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, json: text ? JSON.parse(text) : null };
    };
    try {
      port = await listeningPort(api);
      await worker.waitForOutput('worker running');
      const partner = await call('POST', '/admin/partners', { name: 'Acme' });
      const partnerId = partner.json.partnerUniqueId as string;
      const partnerAuth = `Bearer ${partner.json.apiKey}`;
      const registered = await call(
        'PUT',
        `/${partnerId}/callbacks/5`,
        { callbackUrl: receiver.url, headers: { 'X-Partner-Token': tokens[0] } },
        partnerAuth,
      );
      expect(registered.status).toBe(201);
      const secret = registered.json.signingSecret as string;
      // A delivery that fails once (500) and then succeeds, with the first token.
      const first = await call('POST', `/v1/callbacks/echo/${partnerId}/5`, { processUniqueId: 'p' }, partnerAuth);
      expect(first.status).toBe(202);
      await receiver.waitFor(2);
      expect(receiver.requests[1].headers['x-partner-token']).toBe(tokens[0]);
      // Updated to the second token, and a refused update carrying the third.
      expect(
        (
          await call(
            'PUT',
            `/${partnerId}/callbacks/5`,
            { callbackUrl: receiver.url, headers: { 'X-Partner-Token': tokens[1] } },
            partnerAuth,
          )
        ).status,
      ).toBe(200);
      const refused = await call(
        'PUT',
        `/${partnerId}/callbacks/5`,
        { callbackUrl: receiver.url, headers: { 'X-Partner-Token': `${tokens[2]}\u0001` } },
        partnerAuth,
      );
      expect(refused.status).toBe(400);
      expect((await call('GET', `/${partnerId}/callbacks/5`, undefined, partnerAuth)).json.headers).toEqual({
        'X-Partner-Token': tokens[1],
      });
      await call('POST', `/v1/callbacks/echo/${partnerId}/5`, { processUniqueId: 'p' }, partnerAuth);
      await receiver.waitFor(3);
      expect(receiver.requests[2].headers['x-partner-token']).toBe(tokens[1]);
      await waitUntil(() => (worker.output.match(/"msg":"delivered"/g) ?? []).length >= 2 || undefined, 10_000, 'both deliveries logged');

      const logs = `${api.output}\n${worker.output}`;
      // The scan covers the access log (every request, its headers) and the worker's attempt lines.
      expect(logs).toContain('"msg":"request completed"');
      expect(logs).toContain('"msg":"delivery attempt failed"');
      // The access log shows a request header it does not know only as [redacted].
      expect(logs).toContain('"x-partner-probe":"[redacted]"');
      for (const value of [...tokens, secret, partner.json.apiKey as string, ADMIN.Authorization.slice('Bearer '.length)])
        expect({ value, found: logs.includes(value) }).toEqual({ value, found: false });
    } finally {
      await Promise.all([api.stop(), worker.stop()]);
      await receiver.close();
      await system.close();
    }
  }, 90_000);
});
