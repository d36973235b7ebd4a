import request from 'supertest';
import { type ChildApp, listeningPort, TestReceiver } from '@callbacks/testing';
import { BUILT_API, startBuiltApp } from './support/processes';
import { ADMIN, type Partner, TestSystem } from './support/system';

/**
 * Issue 18: a revocation takes effect on every API process within a second, and an erased partner
 * is refused by every replica once DELETE has answered. Two built API processes share one database
 * and Redis; each remembers partner keys for 5 s, so only the published revocation can explain a
 * refusal within the second.
 */
describe('revocation on every API replica', () => {
  let system: TestSystem;
  let receiver: TestReceiver;
  const replicas: ChildApp[] = [];
  let one: ReturnType<typeof request>;
  let other: ReturnType<typeof request>;

  beforeAll(async () => {
    receiver = await TestReceiver.start();
    system = await TestSystem.start({}, 1);
    // LOG_LEVEL info: the API prints the port it took.
    for (let i = 0; i < 2; i += 1) replicas.push(startBuiltApp(BUILT_API, { ...system.environment.env, PORT: '0', LOG_LEVEL: 'info' }));
    [one, other] = await Promise.all(replicas.map(async (replica) => request(`http://127.0.0.1:${await listeningPort(replica)}`)));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await receiver?.close();
    await system?.close();
  });

  async function issueKey(partner: Partner): Promise<{ apiKeyId: string; auth: { Authorization: string } }> {
    const { body } = await one.post(`/admin/partners/${partner.partnerUniqueId}/api-keys`).set(ADMIN).expect(201);
    return { apiKeyId: body.apiKeyId as string, auth: { Authorization: `Bearer ${body.apiKey as string}` } };
  }

  it('a key revoked on one replica is refused on the other within 1 s (here: by its very next request)', async () => {
    const partner = await system.createPartner('Revoked');
    const key = await issueKey(partner);
    // The other replica has looked the key up and remembers it for 5 s.
    await other.get(`/${partner.partnerUniqueId}/callbacks`).set(key.auth).expect(200);
    await other.get(`/${partner.partnerUniqueId}/callbacks`).set(key.auth).expect(200);

    await one.delete(`/admin/partners/${partner.partnerUniqueId}/api-keys/${key.apiKeyId}`).set(ADMIN).expect(204);
    // The revocation was confirmed by the other replica before the 204: its very next request is refused.
    const next = await other.get(`/${partner.partnerUniqueId}/callbacks`).set(key.auth);
    expect(next.status).toBe(401);
    // The partner's other key is untouched.
    await other.get(`/${partner.partnerUniqueId}/callbacks`).set(partner.auth).expect(200);
  });

  it("after DELETE /admin/partners/{id} answers 204, the other replica refuses the erased partner's publish and nothing is sent", async () => {
    const partner = await system.createPartner('Leaving');
    await system.registerCallback(partner, 5, `${receiver.url}/leaving`);
    const echo = (replica: ReturnType<typeof request>) =>
      replica.post(`/v1/callbacks/echo/${partner.partnerUniqueId}/5`).set(partner.auth).send({ processUniqueId: 'P-1' });
    // The other replica has the key cached and has published with it.
    await echo(other).expect(202);
    await receiver.waitFor(1, 10_000, (received) => received.path === '/leaving');

    await one.delete(`/admin/partners/${partner.partnerUniqueId}`).set(ADMIN).expect(204);
    const afterErasure = await Promise.all([echo(other), echo(other), echo(one)]);
    expect(afterErasure.map((response) => response.status)).toEqual([401, 401, 401]);
    const platformEvent = await other
      .post('/v1/notifications')
      .set(ADMIN)
      .send({ partnerUniqueId: partner.partnerUniqueId, notificationTypeId: 5, payload: { processUniqueId: 'P-2' } });
    expect(platformEvent.status).not.toBe(202);
    // Nothing pending and every queue empty: nothing accepted is still on its way.
    await system.waitUntilSettled();
    expect(receiver.requests.filter((received) => received.path === '/leaving')).toHaveLength(1);
  });
});
