import { TestReceiver } from '@callbacks/testing';
import { TestSystem } from './support/system';

describe('SSRF at delivery time (insecure callbacks not allowed)', () => {
  it('refuses a callback that points at a private address by the time it is sent: recorded as blocked_address, never retried', async () => {
    const system = await TestSystem.start({ ALLOW_INSECURE_CALLBACKS: 'false' });
    const internal = await TestReceiver.start();
    try {
      const partner = await system.createPartner();
      await system.registerCallback(partner, 5, 'https://hooks.partner.example/webhooks');
      // As if the partner's URL had been public at registration and now leads inside our network.
      await system.dataSource.query(`UPDATE callbacks SET callback_url = $1 WHERE partner_id = $2`, [
        `${internal.url}/admin`,
        partner.partnerUniqueId,
      ]);
      const { body } = await system.http
        .post(`/v1/callbacks/echo/${partner.partnerUniqueId}/5`)
        .set(partner.auth)
        .send({ processUniqueId: 'p' })
        .expect(202);
      const failed = await system.waitForStatus(partner, body.notificationId, 'failed');
      expect(failed.statusReason).toBe('blocked_address');
      expect(failed.attempts).toEqual([expect.objectContaining({ attempt: 1, statusCode: null, error: 'blocked_address' })]);
      expect(internal.requests).toHaveLength(0);
    } finally {
      await internal.close();
      await system.close();
    }
  });
});
