/**
 * The ceiling: what Redis and HTTP allow on this machine. A bare BullMQ worker with the same
 * concurrency, job options and HTTP sender as the real one signs each job and POSTs it to the same
 * receiver, with no database at all. It is timed where every other delivery row is timed, at the
 * receiver (first receipt to last), not here; it prints {"deliveries": N} once the last job is done.
 */
import { Queue, Worker } from 'bullmq';
import { DELIVERY_JOB_OPTIONS, redisConnectionOptions } from '@callbacks/queue';
import { generateSigningSecret, signWebhook } from '@callbacks/signing';
import { HttpSender } from '../apps/worker/src/dispatch/http-sender';

const count = Number(process.env.CEILING_JOBS ?? 20_000);
const concurrency = Number(process.env.WORKER_CONCURRENCY ?? 50);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `{${process.env.QUEUE_PREFIX ?? 'bench'}-ceiling}`;
const url = process.env.CEILING_URL!;

async function main(): Promise<void> {
  const queue = new Queue('ceiling', { connection: redisConnectionOptions(redisUrl, 'worker'), prefix });
  await queue.obliterate({ force: true });
  for (let i = 0; i < count; i += 1_000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1_000, count - i) }, (_, j) => ({
        name: 'deliver',
        data: { n: i + j },
        opts: { ...DELIVERY_JOB_OPTIONS, jobId: `c${i + j}` },
      })),
    );
  }
  const sender = new HttpSender({ timeoutMs: 15_000, allowInsecure: true, connectionsPerOrigin: concurrency });
  const secret = generateSigningSecret();
  let done = 0;
  await new Promise<void>((resolve) => {
    const worker = new Worker(
      'ceiling',
      async (job) => {
        const id = String(job.id);
        const body = JSON.stringify({
          type: 'status.changed',
          notificationTypeId: 5,
          timestamp: new Date().toISOString(),
          partnerUniqueId: 'ceiling',
          test: false,
          data: { processUniqueId: id },
        });
        const timestamp = Math.floor(Date.now() / 1000);
        const outcome = await sender.send({
          url,
          body,
          headers: {
            'content-type': 'application/json',
            'webhook-id': id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signWebhook([secret], { id, timestamp, body }),
          },
        });
        if (!outcome.ok) throw new Error(`receiver answered ${outcome.statusCode ?? outcome.error}`);
      },
      { connection: redisConnectionOptions(redisUrl, 'worker'), prefix, concurrency },
    );
    worker.on('completed', () => {
      if (++done === count) void worker.close().then(() => resolve());
    });
  });
  await queue.obliterate({ force: true });
  await queue.close();
  await sender.onApplicationShutdown();
  process.stdout.write(`${JSON.stringify({ deliveries: count })}\n`);
}

void main();
