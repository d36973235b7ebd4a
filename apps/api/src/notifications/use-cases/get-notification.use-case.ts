import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { NotificationDetailDto } from '@callbacks/contracts';
import { DeliveryAttemptEntity, NotificationEntity } from '@callbacks/persistence';
import { DomainError } from '../../common/domain-error';
import { toAttemptDto, toNotificationSummary } from '../notification.mapper';

/** One notification with its payload and every attempt; only the owning partner sees it. */
@Injectable()
export class GetNotification {
  constructor(
    @InjectRepository(NotificationEntity) private readonly notifications: Repository<NotificationEntity>,
    @InjectRepository(DeliveryAttemptEntity) private readonly attempts: Repository<DeliveryAttemptEntity>,
  ) {}

  async execute(partnerId: string, notificationId: string): Promise<NotificationDetailDto> {
    const notification = await this.notifications.findOne({ where: { id: notificationId, partnerId } });
    if (!notification) throw DomainError.notFound('notification_not_found', `partner ${partnerId} has no notification ${notificationId}`);
    const attempts = await this.attempts.find({ where: { notificationId }, order: { attempt: 'ASC' } });
    return {
      ...toNotificationSummary(notification),
      payload: notification.payload,
      statusReason: notification.statusReason,
      attempts: attempts.map(toAttemptDto),
    };
  }
}
