import { Injectable } from '@nestjs/common';
import type { ListNotificationsQueryDto, NotificationPageDto } from '@callbacks/contracts';
import { NotificationRepository } from '@callbacks/persistence';
import { parseNotificationTypeId } from '../../common/params';
import { decodeSeqCursor, encodeSeqCursor } from '../../common/seq-cursor';
import { PartnerLookup } from '../../partners/partner-lookup';
import { toNotificationSummary } from '../notification.mapper';

/** The delivery log, newest first; pages stay stable while new notifications arrive. */
@Injectable()
export class ListNotifications {
  constructor(
    private readonly partners: PartnerLookup,
    private readonly notifications: NotificationRepository,
  ) {}

  async execute(partnerId: string, query: ListNotificationsQueryDto): Promise<NotificationPageDto> {
    const typeId =
      query.notificationTypeId === undefined ? undefined : parseNotificationTypeId(query.notificationTypeId, 'notificationTypeId');
    const before = query.cursor === undefined ? undefined : decodeSeqCursor(query.cursor);
    await this.partners.require(partnerId);
    const filters = {
      status: query.status,
      notificationTypeId: typeId,
      processUniqueId: query.processUniqueId,
      simulationUniqueId: query.simulationUniqueId,
      beforeSeq: before,
    };
    const rows = await this.notifications.page(partnerId, filters, query.limit + 1);
    const page = rows.slice(0, query.limit);
    return {
      items: page.map(toNotificationSummary),
      nextCursor: rows.length > query.limit ? encodeSeqCursor(page[page.length - 1].seq) : null,
    };
  }
}
