import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { NotificationAcceptedDto } from '@callbacks/contracts';
import { DomainError } from '../../common/domain-error';
import { NEW_DELIVERY_ROUND, NEW_ROUND_COLUMNS, newRoundDelivery, type NewRoundRow } from '../delivery-round';
import { DeliveryScheduler } from '../delivery-scheduler';

/**
 * One new delivery now, with the same webhook-id; if it fails, the retry schedule runs again.
 * It starts a new delivery round, so a retry still waiting from the previous round is dropped.
 */
@Injectable()
export class RedeliverNotification {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly scheduler: DeliveryScheduler,
  ) {}

  async execute(partnerId: string, notificationId: string): Promise<NotificationAcceptedDto> {
    const [rows] = (await this.dataSource.query(
      `UPDATE notifications SET ${NEW_DELIVERY_ROUND} WHERE id = $1 AND partner_id = $2 RETURNING ${NEW_ROUND_COLUMNS}`,
      [notificationId, partnerId],
    )) as [NewRoundRow[], number];
    const [row] = rows;
    if (!row) throw DomainError.notFound('notification_not_found', `partner ${partnerId} has no notification ${notificationId}`);
    await this.scheduler.schedule(newRoundDelivery(row));
    return { notificationId, status: 'pending' };
  }
}
