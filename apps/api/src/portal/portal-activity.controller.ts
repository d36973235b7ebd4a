import { Controller, Get, Query, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { ListAuditEntries } from '../audit/use-cases/list-audit-entries.use-case';
import { Audience } from '../auth/principal';
import { PortalErrorFilter } from './portal-error.filter';
import { formText, Portal, sendPage } from './portal-context';
import { activityPage } from './views/activity.view';
import type { PortalContext } from './views/layout';

/** Entries per page of the Activity page. */
const PAGE_SIZE = 50;

/** The Activity page: the signed-in partner's own audit trail, newest first. */
@ApiExcludeController()
@UseFilters(PortalErrorFilter)
@Audience('partner')
@Controller('portal/:partnerUniqueID')
export class PortalActivityController {
  constructor(private readonly listAuditEntries: ListAuditEntries) {}

  @Get('activity')
  async activity(@Portal() portal: PortalContext, @Query() query: Record<string, unknown>, @Res() response: Response): Promise<void> {
    const cursor = formText(query, 'cursor');
    const page = await this.listAuditEntries.execute({
      partnerId: portal.partnerId,
      cursor: cursor === '' ? undefined : cursor,
      limit: PAGE_SIZE,
      order: 'newest_first',
    });
    sendPage(response, activityPage(portal, page, cursor !== ''));
  }
}
