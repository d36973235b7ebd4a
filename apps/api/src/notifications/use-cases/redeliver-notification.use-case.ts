import { Injectable } from '@nestjs/common';
import type { NotificationAcceptedDto } from '@callbacks/contracts';
import { NotificationRepository } from '@callbacks/persistence';
import { DomainError } from '../../common/domain-error';
import { DeliveryScheduler } from '../delivery-scheduler';

/**
 * One new delivery now, with the same webhook-id; if it fails, the retry schedule runs again.
 * It starts a new delivery round, so a retry still waiting from the previous round is dropped.
 */
@Injectable()
export class RedeliverNotification {
  constructor(
    private readonly notifications: NotificationRepository,
    private readonly scheduler: DeliveryScheduler,
  ) {}

  async execute(partnerId: string, notificationId: string): Promise<NotificationAcceptedDto> {
    const round = await this.notifications.startRound(partnerId, notificationId);
    if (!round) throw DomainError.notFound('notification_not_found', `partner ${partnerId} has no notification ${notificationId}`);
    await this.scheduler.schedule(round);
    return { notificationId, status: 'pending' };
  }
}
