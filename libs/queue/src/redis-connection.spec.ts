import { DELIVERY_JOB_OPTIONS, deliveryJobId, KEPT_FINISHED_JOBS } from './delivery-queue';
import { redisConnectionOptions } from './redis-connection';

describe('redisConnectionOptions', () => {
  it('reads host, port, credentials, database and TLS from the URL', () => {
    expect(redisConnectionOptions('rediss://user:p%40ss@cache.internal:6380/2', 'worker')).toMatchObject({
      host: 'cache.internal',
      port: 6380,
      username: 'user',
      password: 'p@ss',
      db: 2,
      tls: {},
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
    });
  });

  it('makes producers fail fast while Redis is down', () => {
    expect(redisConnectionOptions('redis://127.0.0.1:6379', 'producer')).toMatchObject({
      host: '127.0.0.1',
      port: 6379,
      db: 0,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
    });
  });
});

describe('deliveryJobId', () => {
  it('is the notification id, suffixed per redelivery round, never with ":"', () => {
    const id = '0d9b7c2e-1f3a-4b5c-8d6e-7f8091a2b3c4';
    expect(deliveryJobId(id, 0)).toBe(id);
    expect(deliveryJobId(id, 2)).toBe(`${id}-r2`);
    expect(deliveryJobId(id, 2)).not.toContain(':');
  });
});

describe('DELIVERY_JOB_OPTIONS', () => {
  it('bounds the finished jobs Redis keeps by count as well as by age, failed ones included', () => {
    for (const keep of [DELIVERY_JOB_OPTIONS.removeOnComplete, DELIVERY_JOB_OPTIONS.removeOnFail]) {
      expect(keep).toEqual({ age: expect.any(Number), count: KEPT_FINISHED_JOBS });
    }
    expect(KEPT_FINISHED_JOBS).toBeLessThanOrEqual(10_000);
  });
});
