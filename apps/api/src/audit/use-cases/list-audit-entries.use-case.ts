import { Injectable } from '@nestjs/common';
import type { AuditEntryDto, AuditPageDto } from '@callbacks/contracts';
import { type AuditEntryRow, AuditRepository } from '@callbacks/persistence';
import { decodeSeqCursor, encodeSeqCursor } from '../../common/seq-cursor';

export interface AuditListing {
  partnerId?: string;
  since?: Date;
  cursor?: string;
  limit: number;
  /** The operator's listing reads forward from `since`; the portal's Activity page shows the newest first. */
  order: 'oldest_first' | 'newest_first';
}

export function toAuditEntryDto(row: AuditEntryRow): AuditEntryDto {
  return {
    id: row.id,
    at: row.at.toISOString(),
    action: row.action as AuditEntryDto['action'],
    actor: { kind: row.actorKind, id: row.actorId },
    partnerUniqueId: row.partnerId,
    target: row.target,
    details: row.details,
    requestId: row.requestId,
    sourceAddress: row.sourceAddress,
  };
}

/** A page of the audit trail, in insertion order; an erased partner's entries are listed like any other's. */
@Injectable()
export class ListAuditEntries {
  constructor(private readonly entries: AuditRepository) {}

  async execute(listing: AuditListing): Promise<AuditPageDto> {
    const after = listing.cursor === undefined ? undefined : decodeSeqCursor(listing.cursor);
    const rows = await this.entries.page({
      partnerId: listing.partnerId,
      since: listing.since,
      after,
      limit: listing.limit + 1,
      order: listing.order,
    });
    const page = rows.slice(0, listing.limit);
    return {
      items: page.map(toAuditEntryDto),
      nextCursor: rows.length > listing.limit ? encodeSeqCursor(page[page.length - 1].seq) : null,
    };
  }
}
