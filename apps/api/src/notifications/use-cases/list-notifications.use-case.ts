import { Injectable } from '@nestjs/common';
import type { ListNotificationsQueryDto, NotificationPageDto } from '@callbacks/contracts';
import { NotificationRepository } from '@callbacks/persistence';
import { DomainError } from '../../common/domain-error';
import { parseNotificationTypeId } from '../../common/params';
import { PartnerLookup } from '../../partners/partner-lookup';
import { toNotificationSummary } from '../notification.mapper';

const CURSOR_VERSION = 'v1';

/** Cursors are opaque to partners: the position in insertion order, base64url-encoded. */
function encodeCursor(seq: string): string {
  return Buffer.from(`${CURSOR_VERSION}:${seq}`).toString('base64url');
}

function decodeCursor(cursor: string): string {
  const [version, seq] = Buffer.from(cursor, 'base64url').toString('utf8').split(':');
  if (version !== CURSOR_VERSION || !/^\d{1,18}$/.test(seq ?? '')) {
    throw DomainError.validation([{ field: 'cursor', message: 'is not a cursor this API returned' }]);
  }
  return seq;
}

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
    const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
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
      nextCursor: rows.length > query.limit ? encodeCursor(page[page.length - 1].seq) : null,
    };
  }
}
