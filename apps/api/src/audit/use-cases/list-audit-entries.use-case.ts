import { Injectable } from '@nestjs/common';
import type { AuditEntryDto, AuditPageDto } from '@callbacks/contracts';
import { type AuditEntryRow, type AuditPosition, AuditRepository } from '@callbacks/persistence';
import { DomainError } from '../../common/domain-error';

const CURSOR_VERSION = 'a1';

/** Opaque to callers: the last entry's position (its time in microseconds, then its seq), base64url-encoded. */
function encodeCursor(position: AuditPosition): string {
  return Buffer.from(`${CURSOR_VERSION}:${position.atMicros}:${position.seq}`).toString('base64url');
}

function decodeCursor(cursor: string): AuditPosition {
  const [version, atMicros, seq, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split(':');
  if (version !== CURSOR_VERSION || rest.length > 0 || !/^-?\d{1,18}$/.test(atMicros ?? '') || !/^\d{1,18}$/.test(seq ?? '')) {
    throw DomainError.validation([{ field: 'cursor', message: 'is not a cursor this API returned' }]);
  }
  return { atMicros, seq };
}

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

/** A page of the audit trail, by time (then insertion); an erased partner's entries are listed like any other's. */
@Injectable()
export class ListAuditEntries {
  constructor(private readonly entries: AuditRepository) {}

  async execute(listing: AuditListing): Promise<AuditPageDto> {
    const after = listing.cursor === undefined ? undefined : decodeCursor(listing.cursor);
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
      nextCursor: rows.length > listing.limit ? encodeCursor(page[page.length - 1].position) : null,
    };
  }
}
