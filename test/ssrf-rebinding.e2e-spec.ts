import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildApp, serviceUrls, waitUntil } from '@callbacks/testing';
import { BUILT_WORKER } from './support/processes';
import { TestSystem } from './support/system';

/** An address the policy takes for public: in the worker's own network namespace it is a local one, so nothing leaves the machine. */
const PUBLIC_IN_NAMESPACE = '11.0.0.1';
const NAME = 'hooks.rebind.test';
const PORT = 8080;

interface HarnessEvent {
  event: string;
  who?: string;
  answer?: string;
  webhookId?: string;
}

/**
 * DNS rebinding, end to end: the built worker runs in a network and mount namespace of its own
 * (`unshare -nm`, as root), where /etc/resolv.conf points at a DNS server that answers the callback's
 * host name first with a public address and then with 127.0.0.1. The worker uses the system resolver,
 * unchanged; PostgreSQL and Redis reach it through Unix sockets. An implementation that checked one
 * answer and connected with another would reach the "internal" receiver on 127.0.0.1.
 */
describe('SSRF at delivery time: a DNS answer that changes between attempts (rebinding)', () => {
  it('connects only to the address it checked: the rebound answer is refused as blocked_address, the internal receiver never hears from it', async () => {
    const system = await TestSystem.start({ ALLOW_INSECURE_CALLBACKS: 'false' }, 0);
    const directory = mkdtempSync(join(tmpdir(), 'callbacks-rebinding-'));
    writeFileSync(join(directory, 'resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:1 attempts:2\n');
    writeFileSync(join(directory, 'nsswitch.conf'), 'hosts: files dns\n');
    // The host's PostgreSQL and Redis, offered on Unix sockets (which cross network namespaces).
    const forwarders: Server[] = [];
    for (const [port, target] of [
      [5432, new URL(serviceUrls().databaseUrl)],
      [6379, new URL(serviceUrls().redisUrl)],
    ] as const) {
      const server = createServer((client) => {
        const upstream = connect(Number(target.port || port), target.hostname);
        client.pipe(upstream).pipe(client);
        for (const socket of [client, upstream]) socket.on('error', () => [client, upstream].forEach((each) => each.destroy()));
      });
      await new Promise<void>((resolve) => server.listen(join(directory, `${port}.sock`), resolve));
      forwarders.push(server);
    }
    const script = [
      `mount --bind ${join(directory, 'resolv.conf')} /etc/resolv.conf`,
      `mount --bind ${join(directory, 'nsswitch.conf')} /etc/nsswitch.conf`,
      'ip link set lo up',
      `ip addr add ${PUBLIC_IN_NAMESPACE}/32 dev lo`,
      `exec "${process.execPath}" "${join(__dirname, 'support/rebinding-namespace.mjs')}"`,
    ].join(' && ');
    const namespace = ChildApp.start(
      'worker in its namespace',
      'unshare',
      ['--net', '--mount', '--propagation', 'private', 'sh', '-c', script],
      {
        ...system.environment.env,
        PATH: process.env.PATH,
        LOG_LEVEL: 'info',
        REBIND_NAME: NAME,
        REBIND_FIRST: PUBLIC_IN_NAMESPACE,
        REBIND_PORT: String(PORT),
        REBIND_SOCKETS: directory,
        REBIND_WORKER: BUILT_WORKER,
      },
    );
    const events = (): HarnessEvent[] =>
      namespace.output
        .split('\n')
        .filter((line) => line.startsWith('{"event"'))
        .map((line) => JSON.parse(line) as HarnessEvent);
    try {
      await namespace.waitForOutput('worker running', 60_000);
      const partner = await system.createPartner();
      await system.registerCallback(partner, 5, 'https://hooks.partner.example/webhooks');
      // As if the partner's host had been public when registered, and its DNS now rebinds.
      await system.dataSource.query(`UPDATE callbacks SET callback_url = $1 WHERE partner_id = $2`, [
        `http://${NAME}:${PORT}/hook`,
        partner.partnerUniqueId,
      ]);
      const { body } = await system.http
        .post(`/v1/callbacks/echo/${partner.partnerUniqueId}/5`)
        .set(partner.auth)
        .send({ processUniqueId: 'p' })
        .expect(202);
      const failed = await system.waitForStatus(partner, body.notificationId, 'failed', 30_000);

      // The first answer (public) was checked and connected to; the second (127.0.0.1) was refused, and never retried.
      expect(failed.statusReason).toBe('blocked_address');
      expect(failed.attempts.map((attempt) => [attempt.statusCode, attempt.error])).toEqual([
        [500, null],
        [null, 'blocked_address'],
      ]);
      const seen = events();
      expect(seen.filter((event) => event.event === 'dns').map((event) => event.answer)).toEqual(
        expect.arrayContaining([PUBLIC_IN_NAMESPACE, '127.0.0.1']),
      );
      expect(seen.filter((event) => event.event === 'request')).toEqual([
        { event: 'request', who: 'partner', path: '/hook', webhookId: body.notificationId },
      ]);
    } finally {
      namespace.kill('SIGTERM');
      await waitUntil(() => !namespace.running || undefined, 20_000, 'the namespace to end').catch(() => namespace.kill('SIGKILL'));
      for (const server of forwarders) server.close();
      rmSync(directory, { recursive: true, force: true });
      await system.close();
    }
  }, 90_000);
});
