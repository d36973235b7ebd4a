import { TestReceiver } from '@callbacks/testing';
import { AppProcess, BUILT_WORKER } from './support/processes';
import { TestSystem } from './support/system';

describe('graceful shutdown of a worker process', () => {
  it('on SIGTERM mid-delivery, finishes the delivery once, records it and exits 0', async () => {
    const system = await TestSystem.start({ DELIVERY_TIMEOUT_MS: '5000' }, 0);
    const receiver = await TestReceiver.start();
    const worker = AppProcess.start(BUILT_WORKER, { ...system.environment.env, LOG_LEVEL: 'info' });
    try {
      await worker.waitForOutput('worker running');
      // The receiver takes 1.5 s to answer: the SIGTERM lands while the delivery is in flight.
      receiver.replyWith((_request, response) => void setTimeout(() => response.writeHead(200).end('ok'), 1_500));
      const partner = await system.createPartner();
      await system.registerCallback(partner, 5, receiver.url);
      const { body } = await system.http.post(`/v1/callbacks/echo/${partner.partnerUniqueId}/5`).set(partner.auth).send({ processUniqueId: 'p' }).expect(202);
      const [request] = await receiver.waitFor(1);

      worker.kill('SIGTERM');
      const exit = await worker.exited;
      expect(exit).toEqual({ code: 0, signal: null });
      expect(Date.now() - request.receivedAt).toBeGreaterThanOrEqual(1_400);

      const detail = await system.notification(partner, body.notificationId);
      expect(detail).toMatchObject({ status: 'delivered', attemptCount: 1 });
      expect(detail.attempts[0]).toMatchObject({ statusCode: 200, responseBody: 'ok' });

      // Another worker finds nothing left to do: no stalled job, no second delivery.
      await system.startWorker();
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(receiver.deliveriesOf(body.notificationId)).toHaveLength(1);
    } finally {
      worker.kill('SIGKILL');
      await receiver.close();
      await system.close();
    }
  });
});
