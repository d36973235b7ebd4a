import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '@callbacks/config';
import { SUPPORTED_NOTIFICATION_TYPE_IDS } from '@callbacks/contracts';
import { CallbackRepository, OperatorEventRepository, PartnerRepository, PortalRepository } from '@callbacks/persistence';
import { callbackKeysUnder, queueShards, withTimeout } from '@callbacks/queue';
import { type AuditOrigin, AuditTrail } from '../../audit/audit-trail';
import { AccessRevocations } from '../../auth/access-revocations';
import { ApiRedis } from '../../common/api-redis';
import { NotificationEraser } from '../../erasure/notification-eraser';
import { PartnerLookup } from '../partner-lookup';

const REDIS_TIMEOUT_MS = 5_000;

/**
 * A partner leaves: it and everything of it goes. First its API keys, portal links and sessions, and
 * callbacks (secrets included), in one transaction, so its keys answer 401 and nothing more is sent
 * from that moment;
 * then its notifications with their attempts, idempotency keys and queued jobs, batch by batch;
 * then its callbacks' isolation state in Redis; the partner row last, so that an erasure cut short
 * (Redis or PostgreSQL unreachable) can simply be repeated.
 */
@Injectable()
export class ErasePartner {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly partnerRows: PartnerRepository,
    private readonly callbacks: CallbackRepository,
    private readonly portal: PortalRepository,
    private readonly operatorEventRows: OperatorEventRepository,
    private readonly partners: PartnerLookup,
    private readonly revocations: AccessRevocations,
    private readonly eraser: NotificationEraser,
    private readonly redis: ApiRedis,
    private readonly auditTrail: AuditTrail,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('ErasePartner');
  }

  async execute(partnerId: string, origin: AuditOrigin): Promise<void> {
    await this.partners.require(partnerId);
    const { apiKeys, callbackTypes, portalSessions, operatorEvents } = await this.dataSource.transaction(async (manager) => {
      const deleted = {
        apiKeys: await this.partnerRows.deleteKeys(partnerId, manager),
        callbackTypes: await this.callbacks.deleteOfPartner(partnerId, manager),
        // Portal sign-in links and sessions end with the keys: the portal answers as to a stranger from now on.
        portalSessions: await this.portal.deleteAllOfPartner(partnerId, manager),
        // Operator events name the partner (never a payload): they go too, with their attempts.
        operatorEvents: await this.operatorEventRows.deleteOfPartner(partnerId, manager),
      };
      // The audit trail keeps the partner's entries (ids only, no personal data) and gains this one.
      await this.auditTrail.record(
        origin,
        {
          action: 'partner_erased',
          partnerId,
          target: `partner:${partnerId}`,
          details: {
            revokedApiKeyIds: deleted.apiKeys,
            deletedCallbackTypes: deleted.callbackTypes,
            endedPortalSessions: deleted.portalSessions,
          },
        },
        manager,
      );
      return deleted;
    });
    // Every API process forgets the keys before anything else: from here on no replica accepts them.
    await this.revocations.publish({ apiKeyIds: apiKeys, partnerId });
    const audit = { action: 'partner_erased', partnerId };
    const erased = await this.eraser.erase('partner', partnerId, audit);
    // Every catalog type, not only the callbacks deleted now: a repeated erasure no longer knows which existed.
    // Under every shard: keys made before QUEUE_SHARDS changed are under the shard the callback had then.
    // One key per command: a callback's keys share its shard's hash tag, but different types may not.
    const redisKeys = queueShards(this.config).flatMap((shard) =>
      SUPPORTED_NOTIFICATION_TYPE_IDS.flatMap((typeId) => Object.values(callbackKeysUnder(shard.prefix, partnerId, typeId))),
    );
    const removed = await withTimeout(
      Promise.all(redisKeys.map((key) => this.redis.client.del(key))),
      REDIS_TIMEOUT_MS,
      "deleting the partner's callback state",
    );
    const removedRedisKeys = removed.reduce((sum, n) => sum + n, 0);
    // Whatever arrived meanwhile (a platform event, recorded as skipped) goes with the partner, by cascade.
    const partnerRows = await this.partnerRows.delete(partnerId);
    this.logger.info(
      {
        audit: true,
        ...audit,
        deletedPartner: partnerRows,
        deletedApiKeyIds: apiKeys,
        deletedCallbackTypes: callbackTypes,
        deletedPortalSessions: portalSessions,
        deletedOperatorEvents: operatorEvents,
        deletedNotifications: erased.notifications,
        deletedAttempts: erased.attempts,
        deletedIdempotencyKeys: erased.idempotencyKeys,
        removedJobs: erased.removedJobs,
        removedRedisKeys,
      },
      'partner erased',
    );
  }
}
