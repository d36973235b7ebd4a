import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditPageDto, ListAuditQueryDto } from '@callbacks/contracts';
import { Audience } from '../auth/principal';
import { ApiProblems } from '../common/api-problems';
import { ListAuditEntries } from './use-cases/list-audit-entries.use-case';

@ApiTags('Admin')
@ApiBearerAuth()
@Audience('admin')
@Controller('admin/audit')
export class AuditController {
  constructor(private readonly listAuditEntries: ListAuditEntries) {}

  @Get()
  @ApiOperation({
    summary: 'The audit trail: every change of access or destination, oldest first',
    description:
      'Keys issued and revoked, portal links, sessions started and ended, callbacks created, updated (old and new URL), enabled, disabled ' +
      'and deleted, signing secrets revealed and rotated, redeliveries, recoveries and erasures; each with its actor, partner, time, ' +
      'request id and source address, never a secret or a payload. Entries outlive the partner’s erasure and expire after AUDIT_RETENTION_PERIOD.',
  })
  @ApiOkResponse({ type: AuditPageDto })
  @ApiProblems(400, 401, 403)
  list(@Query() query: ListAuditQueryDto): Promise<AuditPageDto> {
    return this.listAuditEntries.execute({
      partnerId: query.partnerUniqueId?.toLowerCase(),
      since: query.since === undefined ? undefined : new Date(query.since),
      cursor: query.cursor,
      limit: query.limit,
      order: 'oldest_first',
    });
  }
}
