import { Inject, Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import type { CallbackHealth } from '@callbacks/contracts';
import { callbackHealth, callbackKeys, withTimeout } from '@callbacks/queue';
import { ApiRedis } from '../common/api-redis';

const READ_TIMEOUT_MS = 500;

/**
 * Reads each callback's circuit state that the workers keep in Redis (see the worker's
 * CallbackGuard). When Redis cannot answer quickly, a callback reads as "ok" rather than failing
 * the request: the health field is advice, the callback itself lives in PostgreSQL.
 */
@Injectable()
export class CallbackHealthStore {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly redis: ApiRedis,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('CallbackHealthStore');
  }

  async read(callbacks: Array<{ partnerId: string; notificationTypeId: number }>): Promise<CallbackHealth[]> {
    if (callbacks.length === 0) return [];
    try {
      // One read per callback (auto-pipelined): their keys may sit in different cluster slots.
      const reads = callbacks.map(({ partnerId, notificationTypeId }) =>
        this.redis.client.hget(callbackKeys(this.config, partnerId, notificationTypeId).circuit, 'failures'),
      );
      const results = await withTimeout(Promise.all(reads), READ_TIMEOUT_MS, 'reading callback health');
      return results.map((failures) => callbackHealth(Number(failures ?? 0), this.config.circuitFailureThreshold));
    } catch (error) {
      this.logger.warn({ err: error }, 'callback health unavailable; reporting ok');
      return callbacks.map(() => 'ok');
    }
  }

  /**
   * A closed circuit: forgets the consecutive failures and the probe. The in-flight leases (and any
   * other per-delivery state) stay: they belong to deliveries still running, which release them.
   */
  async reset(partnerId: string, notificationTypeId: number): Promise<void> {
    const keys = callbackKeys(this.config, partnerId, notificationTypeId);
    await withTimeout(this.redis.client.del(keys.circuit, keys.probe), READ_TIMEOUT_MS, 'resetting the circuit').catch((error: unknown) =>
      this.logger.warn(
        { err: error, partnerId, notificationTypeId },
        'could not reset the circuit; it closes on the next successful probe',
      ),
    );
  }
}
