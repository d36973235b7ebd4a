import type { LookupAddress } from 'node:dns';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { streamLargeBody, TestReceiver, waitUntil } from '@callbacks/testing';
import { HttpSender, MAX_RESPONSE_BYTES } from '../src/dispatch/http-sender';

/** A resolver that answers every name with `address`, as a DNS rebinding attacker would. */
function resolvingTo(address: string) {
  return ((_host: string, _options: unknown, callback: (error: Error | null, addresses: LookupAddress[]) => void) =>
    callback(null, [{ address, family: address.includes(':') ? 6 : 4 }])) as never;
}

/** The sockets undici connects while `work` runs (its diagnostics channel), to read how much each took off the wire. */
async function withSockets<T>(work: () => Promise<T>): Promise<{ result: T; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const onConnected = (message: unknown) => void sockets.push((message as { socket: Socket }).socket);
  subscribe('undici:client:connected', onConnected);
  try {
    return { result: await work(), sockets };
  } finally {
    unsubscribe('undici:client:connected', onConnected);
  }
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

  it('ends a response that never finishes at the deadline, hanging up on the receiver, and names the error', async () => {
    const sender = new HttpSender({ timeoutMs: 600, allowInsecure: true, connectionsPerOrigin: 4 });
    try {
      receiver.replyWith('reset');
      expect((await sender.send(delivery(receiver.url))).error).toBe('connection_reset');

      // A body that drips forever: only the attempt's own deadline can end it (a per-read timeout never fires).
      receiver.replyWith((_request, response) => {
        response.writeHead(500);
        const drip = setInterval(() => response.write('x'), 50);
        response.on('close', () => clearInterval(drip));
      });
      const slow = await sender.send(delivery(receiver.url));
      expect(slow).toMatchObject({ statusCode: 500, ok: false });
      expect(slow.durationMs).toBeGreaterThanOrEqual(600);

      receiver.replyWith('hang');
      const silent = await sender.send(delivery(receiver.url));
      expect(silent.error).toBe('timeout');
      // Both times the sender hung up on a receiver that was still at it: its deadline ended the attempt.
      const [, dripped, hung] = receiver.requests;
      await waitUntil(() => dripped.abandonedAt !== undefined && hung.abandonedAt !== undefined, 5_000, 'the sender to hang up');

      receiver.replyWith({ status: 200, body: 'ok\u0000done' });
      expect((await sender.send(delivery(receiver.url))).responseBody).toBe('okdone');
    } finally {
      await sender.onApplicationShutdown();
    }
  });

  it('reads at most 64 KiB of a 20 MiB answer off the socket, keeps the first 1 KiB, and hangs up', async () => {
    const sender = new HttpSender({ timeoutMs: 10_000, allowInsecure: true, connectionsPerOrigin: 1 });
    try {
      receiver.replyWith((_request, response) => streamLargeBody(response, 200, 20 * 1024 * 1024));
      const { result: huge, sockets } = await withSockets(() => sender.send(delivery(receiver.url)));
      expect(huge).toMatchObject({ statusCode: 200, ok: true, error: null });
      expect(huge.responseBody).toHaveLength(1024);
      expect(sockets).toHaveLength(1);
      await waitUntil(() => sockets[0].destroyed || undefined, 5_000, 'the sender to close the connection');
      // What the client read off the wire (headers included): the cap, plus at most one socket read and
      // one body-stream buffer of undici's (64 KiB each) already under way when the cap was reached.
      expect(sockets[0].bytesRead).toBeGreaterThanOrEqual(MAX_RESPONSE_BYTES);
      expect(sockets[0].bytesRead).toBeLessThanOrEqual(MAX_RESPONSE_BYTES + 2 * 64 * 1024);
      await waitUntil(() => receiver.requests[0].abandonedAt !== undefined, 5_000, 'the receiver to see the hang-up');
    } finally {
      await sender.onApplicationShutdown();
    }
  });
});
