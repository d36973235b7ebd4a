import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { NotificationAcceptedDto } from '@callbacks/contracts';
import { DomainError } from '../../common/domain-error';
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
      `UPDATE notifications
          SET status = 'pending', status_reason = NULL, round_attempts = 0, delivery_round = delivery_round + 1,
              next_attempt_at = now(), updated_at = now()
        WHERE id = $1 AND partner_id = $2
        RETURNING notification_type_id, delivery_round, test`,
      [notificationId, partnerId],
    )) as [Array<{ notification_type_id: number; delivery_round: number; test: boolean }>, number];
    const [row] = rows;
    if (!row) throw DomainError.notFound('notification_not_found', `partner ${partnerId} has no notification ${notificationId}`);
    await this.scheduler.schedule([{ notificationId, partnerUniqueId: partnerId, notificationTypeId: row.notification_type_id, round: row.delivery_round, test: row.test }]);
    return { notificationId, status: 'pending' };
  }
}
