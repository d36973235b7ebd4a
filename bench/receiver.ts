/**
 * The benchmark's partner endpoint, in its own process so that it does not share a CPU budget
 * with the code under test. POST /ok/... answers 204 at once; POST /hang/... never answers (the
 * sender's deadline ends it). It records when each webhook-id first arrived (epoch ms).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const receipts = new Map<string, number>();
let received = 0;

function now(): number {
  return performance.timeOrigin + performance.now();
}

const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/stats') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ received, unique: receipts.size }));
    return;
  }
  if (request.method === 'GET' && request.url === '/receipts') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(Object.fromEntries(receipts)));
    return;
  }
  if (request.method === 'POST' && request.url === '/reset') {
    receipts.clear();
    received = 0;
    response.writeHead(204).end();
    return;
  }
  const at = now();
  request.resume();
  request.on('end', () => {
    if (request.url?.startsWith('/hang')) return;
    received++;
    const id = request.headers['webhook-id'];
    if (typeof id === 'string' && !receipts.has(id)) receipts.set(id, at);
    response.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.RECEIVER_PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
