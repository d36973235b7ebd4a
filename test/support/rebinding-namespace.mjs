// Runs inside a network and mount namespace of its own (see ssrf-rebinding.e2e-spec.ts), as its
// root: a DNS server on 127.0.0.1:53 that answers REBIND_NAME first with REBIND_FIRST (a public
// address, local to this namespace) and then with 127.0.0.1; a "partner" receiver on REBIND_FIRST and
// an "internal" one on 127.0.0.1, both on REBIND_PORT; PostgreSQL and Redis forwarded to the host's
// through Unix sockets; and the built worker, which resolves through the system resolver like any
// deployment. Every event is one JSON line on stdout.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer } from 'node:net';

const { REBIND_NAME, REBIND_FIRST, REBIND_PORT, REBIND_SOCKETS, REBIND_WORKER } = process.env;
const report = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);

// PostgreSQL and Redis on this namespace's loopback, carried to the host's over Unix sockets.
for (const port of [5432, 6379])
  createServer((client) => {
    const upstream = connect({ path: `${REBIND_SOCKETS}/${port}.sock` });
    client.pipe(upstream).pipe(client);
    for (const socket of [client, upstream]) socket.on('error', () => [client, upstream].forEach((each) => each.destroy()));
  }).listen(port, '127.0.0.1');

let answered = 0;
const dns = createSocket('udp4');
dns.on('message', (query, from) => {
  let offset = 12;
  const labels = [];
  while (query[offset] !== 0) {
    labels.push(query.toString('latin1', offset + 1, offset + 1 + query[offset]));
    offset += query[offset] + 1;
  }
  const type = query.readUInt16BE(offset + 1);
  const question = query.subarray(12, offset + 5);
  const name = labels.join('.').toLowerCase();
  const known = name === REBIND_NAME;
  const answers = [];
  if (known && type === 1) {
    const address = answered++ === 0 ? REBIND_FIRST : '127.0.0.1';
    answers.push(Buffer.concat([Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4]), Buffer.from(address.split('.').map(Number))]));
    report({ event: 'dns', name, answer: address });
  }
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  header.writeUInt16BE(known ? 0x8180 : 0x8183, 2); // a response, recursion available; NXDOMAIN for any other name
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  dns.send(Buffer.concat([header, question, ...answers]), from.port, from.address);
});
dns.bind(53, '127.0.0.1');

for (const [who, host] of [
  ['partner', REBIND_FIRST],
  ['internal', '127.0.0.1'],
])
  createHttpServer((request, response) => {
    request.resume();
    request.on('end', () => {
      report({ event: 'request', who, path: request.url, webhookId: request.headers['webhook-id'] });
      // A failure that asks for a retry, on a connection that is not kept: the retry resolves the name again.
      response.writeHead(500, { connection: 'close' }).end('try again');
    });
  }).listen(Number(REBIND_PORT), host);

const worker = spawn(process.execPath, [REBIND_WORKER], { env: process.env, stdio: ['ignore', 'inherit', 'inherit'] });
worker.on('exit', (code, signal) => {
  report({ event: 'worker exited', code, signal });
  process.exit(0);
});
process.on('SIGTERM', () => worker.kill('SIGTERM'));
report({ event: 'ready' });
