import type { LookupAddress } from 'node:dns';
import { streamLargeBody, TestReceiver } from '@callbacks/testing';
import { HttpSender, MAX_RESPONSE_BYTES } from '../src/dispatch/http-sender';

/** A resolver that answers every name with `address`, as a DNS rebinding attacker would. */
function resolvingTo(address: string) {
  return ((_host: string, _options: unknown, callback: (error: Error | null, addresses: LookupAddress[]) => void) =>
    callback(null, [{ address, family: address.includes(':') ? 6 : 4 }])) as never;
}

describe('HttpSender against real sockets', () => {
  let receiver: TestReceiver;
  beforeEach(async () => {
    receiver = await TestReceiver.start();
  });
  afterEach(() => receiver.close());

  const delivery = (url: string) => ({ url, headers: { 'content-type': 'application/json' }, body: '{}' });

  it('refuses a host name that resolves to loopback, without connecting (blocked_address)', async () => {
    const port = new URL(receiver.url).port;
    const sender = new HttpSender({ timeoutMs: 1_000, allowInsecure: false, connectionsPerOrigin: 2, resolve: resolvingTo('127.0.0.1') });
    try {
      const outcome = await sender.send(delivery(`http://hooks.partner.example:${port}/x`));
      expect(outcome).toMatchObject({ ok: false, statusCode: null, error: 'blocked_address' });
      const metadata = await sender.send(delivery(`http://hooks.partner.example:${port}/x`));
      expect(metadata.error).toBe('blocked_address');
      expect(receiver.requests).toHaveLength(0);
    } finally {
      await sender.onApplicationShutdown();
    }
  });

  it('refuses literal private addresses and IPv4-mapped metadata without a lookup', async () => {
    const sender = new HttpSender({ timeoutMs: 1_000, allowInsecure: false, connectionsPerOrigin: 2 });
    try {
      for (const url of [receiver.url, 'http://[::ffff:169.254.169.254]/latest', 'http://10.0.0.1/x']) {
        expect((await sender.send(delivery(url))).error).toBe('blocked_address');
      }
      expect(receiver.requests).toHaveLength(0);
    } finally {
      await sender.onApplicationShutdown();
    }
  });

  it('ends hostile responses within the deadline, names the error, and reads at most 64 KiB', async () => {
    const sender = new HttpSender({ timeoutMs: 600, allowInsecure: true, connectionsPerOrigin: 4 });
    try {
      receiver.replyWith('reset');
      expect((await sender.send(delivery(receiver.url))).error).toBe('connection_reset');

      receiver.replyWith((_request, response) => {
        response.writeHead(500);
        const drip = setInterval(() => response.write('x'), 50);
        response.on('close', () => clearInterval(drip));
      });
      const slow = await sender.send(delivery(receiver.url));
      expect(slow).toMatchObject({ statusCode: 500, ok: false });
      expect(slow.durationMs).toBeLessThan(600 + 250);

      receiver.replyWith((_request, response) => streamLargeBody(response, 200, 20 * 1024 * 1024));
      const huge = await sender.send(delivery(receiver.url));
      expect(huge).toMatchObject({ statusCode: 200, ok: true });
      expect(huge.responseBody).toHaveLength(1024);
      expect(MAX_RESPONSE_BYTES).toBe(64 * 1024);

      receiver.replyWith('hang');
      const silent = await sender.send(delivery(receiver.url));
      expect(silent.error).toBe('timeout');
      expect(silent.durationMs).toBeLessThan(600 + 250);

      receiver.replyWith({ status: 200, body: 'ok\u0000done' });
      expect((await sender.send(delivery(receiver.url))).responseBody).toBe('okdone');
    } finally {
      await sender.onApplicationShutdown();
    }
  });
});
