import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CaseErasedDto, EraseCaseDto } from '@callbacks/contracts';
import { type AuditOrigin, AuditedBy } from '../audit/audit-trail';
import { Audience } from '../auth/principal';
import { ApiProblems } from '../common/api-problems';
import { EraseCase } from './use-cases/erase-case.use-case';

@ApiTags('Admin')
@ApiBearerAuth()
@Audience('admin')
@Controller('admin/erasures')
export class ErasureController {
  constructor(private readonly eraseCase: EraseCase) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Erase a case: every notification about one process or simulation, for every partner',
    description:
      'Give exactly one of processUniqueId or simulationUniqueId. Deletes the notifications with their attempts and idempotency keys; ' +
      'pending ones are cancelled and never sent. Written to the audit log and the audit trail (ids and counts, never payloads).',
  })
  @ApiOkResponse({ type: CaseErasedDto })
  @ApiProblems(400, 401, 403)
  erase(@Body() body: EraseCaseDto, @AuditedBy() origin: AuditOrigin): Promise<CaseErasedDto> {
    return this.eraseCase.execute(body, origin);
  }
}
