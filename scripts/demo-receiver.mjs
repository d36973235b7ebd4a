// A demo partner endpoint: prints each webhook (id, type, signature header, body) and answers 200.
// With WEBHOOK_SECRET=whsec_... it also verifies the Standard Webhooks signature and answers 401 when it does not match.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const port = Number(process.env.RECEIVER_PORT ?? 4000);
const secret = process.env.WEBHOOK_SECRET;

function verify(headers, body) {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`).digest('base64');
  return String(headers['webhook-signature'] ?? '')
    .split(' ')
    .some((entry) => {
      const [version, signature = ''] = entry.split(',');
      return version === 'v1' && signature.length === expected.length && timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
    });
}

createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const verified = secret ? verify(request.headers, body) : null;
    console.log(
      JSON.stringify({ path: request.url, webhookId: request.headers['webhook-id'], verified, body: JSON.parse(body || 'null') }),
    );
    response.writeHead(verified === false ? 401 : 200).end();
  });
}).listen(port, () => console.log(`demo receiver listening on :${port}`));
