import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { RecoverNotificationsDto, RecoveringDto, SUPPORTED_NOTIFICATION_TYPE_IDS } from '@callbacks/contracts';
import { type AuditOrigin, AuditedBy } from '../audit/audit-trail';
import { Audience } from '../auth/principal';
import { ApiProblems } from '../common/api-problems';
import { NotificationTypeParam, PartnerIdParam } from '../common/params';
import { RateLimit } from '../common/rate-limit.guard';
import { RecoverNotifications } from './use-cases/recover-notifications.use-case';

const RECOVER_DESCRIPTION =
  'A new delivery round, with the same webhook-id, for every notification accepted in [since, until) that is failed, or skipped because the service had disabled the callback (statusReason callback_disabled); ' +
  'those skipped while the partner itself had paused it (statusReason callback_paused) are not taken. ' +
  'since may not be older than RETENTION_PERIOD. At most 10,000 per call: a larger window is refused with 422 (narrow it). ' +
  'Notifications already pending (e.g. from a recovery still running) are not taken again.';

@ApiTags('Recovery')
@ApiBearerAuth()
@ApiParam({ name: 'partnerUniqueID', format: 'uuid' })
@Controller()
export class RecoveryController {
  constructor(private readonly recoverNotifications: RecoverNotifications) {}

  @Post(':partnerUniqueID/callbacks/:notificationType/recover')
  @Audience('partner')
  // It makes us send traffic, like an echo or a redelivery: it draws from the same budget.
  @RateLimit('echo')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Recover a callback’s failed notifications since a time',
    description: `${RECOVER_DESCRIPTION} 409 while the callback is disabled: PUT it first.`,
  })
  @ApiParam({ name: 'notificationType', enum: [...SUPPORTED_NOTIFICATION_TYPE_IDS], description: 'Notification type id' })
  @ApiAcceptedResponse({ type: RecoveringDto })
  @ApiProblems(400, 401, 403, 404, 409, 413, 415, 422, 429)
  recoverCallback(
    @PartnerIdParam() partnerId: string,
    @NotificationTypeParam('notificationType') notificationTypeId: number,
    @Body() body: RecoverNotificationsDto,
    @AuditedBy() origin: AuditOrigin,
  ): Promise<RecoveringDto> {
    return this.recoverNotifications.execute({ partnerId, notificationTypeId }, body, origin);
  }

  @Post('admin/partners/:partnerUniqueID/recover')
  @Audience('admin')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Recover failed notifications of all a partner’s enabled callbacks (operator key)',
    description: RECOVER_DESCRIPTION,
  })
  @ApiAcceptedResponse({ type: RecoveringDto })
  @ApiProblems(400, 401, 403, 404, 413, 415, 422)
  recoverPartner(
    @PartnerIdParam() partnerId: string,
    @Body() body: RecoverNotificationsDto,
    @AuditedBy() origin: AuditOrigin,
  ): Promise<RecoveringDto> {
    return this.recoverNotifications.execute({ partnerId, notificationTypeId: null }, body, origin);
  }
}
