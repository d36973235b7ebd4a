/**
 * The benchmark's partner endpoint, in its own process so that it does not share a CPU budget
 * with the code under test. POST /ok/... answers 204 at once; POST /slow/<ms>/... answers 200 after
 * <ms> milliseconds (a slow but working endpoint); POST /hang/... never answers until
 * POST /release (or the sender's deadline) ends it. It records when each webhook-id first arrived
 * (epoch ms on this process's clock; GET /clock lets the bench relate that clock to its own), and
 * how many requests it holds hanging right now. POST /flaky/... answers 500 to 10 % of requests at
 * random and 204 to the rest; its successful arrivals (case, publish index and sequence, read from
 * the envelope) are listed in arrival order at GET /arrivals, for the ordering row.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const receipts = new Map<string, number>();
const hanging = new Set<ServerResponse>();
let received = 0;
/** Successful /flaky arrivals, in arrival order: [case, publish index within the case, envelope sequence or null]. */
let arrivals: Array<[string, number, number | null]> = [];

function now(): number {
  return performance.timeOrigin + performance.now();
}

const json = (response: ServerResponse, value: unknown) =>
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));

const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/clock') return json(response, { now: now() });
  if (request.method === 'GET' && request.url === '/stats')
    return json(response, { received, unique: receipts.size, hanging: hanging.size });
  if (request.method === 'GET' && request.url === '/receipts') return json(response, Object.fromEntries(receipts));
  if (request.method === 'GET' && request.url === '/arrivals') return json(response, arrivals);
  if (request.method === 'POST' && request.url === '/reset') {
    receipts.clear();
    received = 0;
    arrivals = [];
    response.writeHead(204).end();
    return;
  }
  if (request.method === 'POST' && request.url === '/release') {
    for (const held of hanging) held.socket?.destroy();
    hanging.clear();
    response.writeHead(204).end();
    return;
  }
  const at = now();
  if (request.url?.startsWith('/flaky')) {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (Math.random() < 0.1) {
        response.writeHead(500).end();
        return;
      }
      received++;
      const id = request.headers['webhook-id'];
      if (typeof id === 'string' && !receipts.has(id)) receipts.set(id, at);
      const envelope = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        sequence?: number;
        data: { processUniqueId: string; n: number };
      };
      arrivals.push([envelope.data.processUniqueId, envelope.data.n, envelope.sequence ?? null]);
      response.writeHead(204).end();
    });
    return;
  }
  request.resume();
  request.on('end', () => {
    if (request.url?.startsWith('/hang')) {
      hanging.add(response);
      response.once('close', () => hanging.delete(response));
      return;
    }
    received++;
    const id = request.headers['webhook-id'];
    if (typeof id === 'string' && !receipts.has(id)) receipts.set(id, at);
    const slowMs = /^\/slow\/(\d+)\//.exec(request.url ?? '')?.[1];
    if (slowMs) setTimeout(() => response.writeHead(200).end(), Number(slowMs));
    else response.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.RECEIVER_PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
