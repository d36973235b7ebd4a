import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { NotificationAcceptedDto } from '@callbacks/contracts';
import { NotificationRepository } from '@callbacks/persistence';
import { type AuditOrigin, AuditTrail } from '../../audit/audit-trail';
import { DomainError } from '../../common/domain-error';
import { DeliveryScheduler } from '../delivery-scheduler';

/**
 * One new delivery now, with the same webhook-id; if it fails, the retry schedule runs again.
 * It starts a new delivery round, so a retry still waiting from the previous round is dropped.
 * The new round and its audit entry are one transaction.
 */
@Injectable()
export class RedeliverNotification {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly notifications: NotificationRepository,
    private readonly scheduler: DeliveryScheduler,
    private readonly audit: AuditTrail,
  ) {}

  async execute(partnerId: string, notificationId: string, origin: AuditOrigin): Promise<NotificationAcceptedDto> {
    const round = await this.dataSource.transaction(async (manager) => {
      const started = await this.notifications.startRound(partnerId, notificationId, manager);
      if (!started) throw DomainError.notFound('notification_not_found', `partner ${partnerId} has no notification ${notificationId}`);
      await this.audit.record(
        origin,
        {
          action: 'notification_redelivered',
          partnerId,
          target: `notification:${notificationId}`,
          details: { notificationTypeId: started.notificationTypeId, round: started.round },
        },
        manager,
      );
      return started;
    });
    await this.scheduler.schedule(round);
    return { notificationId, status: 'pending' };
  }
}
