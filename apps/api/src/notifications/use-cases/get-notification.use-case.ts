import { Injectable } from '@nestjs/common';
import type { NotificationDetailDto } from '@callbacks/contracts';
import { NotificationRepository } from '@callbacks/persistence';
import { DomainError } from '../../common/domain-error';
import { toAttemptDto, toNotificationSummary } from '../notification.mapper';

/** One notification with its payload and every attempt; only the owning partner sees it. */
@Injectable()
export class GetNotification {
  constructor(private readonly notifications: NotificationRepository) {}

  async execute(partnerId: string, notificationId: string): Promise<NotificationDetailDto> {
    const notification = await this.notifications.findOfPartner(partnerId, notificationId);
    if (!notification) throw DomainError.notFound('notification_not_found', `partner ${partnerId} has no notification ${notificationId}`);
    const attempts = await this.notifications.attempts(notificationId);
    return {
      ...toNotificationSummary(notification),
      payload: notification.payload,
      statusReason: notification.statusReason,
      attempts: attempts.map(toAttemptDto),
    };
  }
}
