import { Body, Controller, Get, Headers, HttpCode, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import {
  IDEMPOTENCY_KEY_MESSAGE,
  IDEMPOTENCY_KEY_PATTERN,
  ListNotificationsQueryDto,
  MAX_BATCH_NOTIFICATIONS,
  NOTIFICATION_PAYLOAD_SCHEMA,
  NOTIFICATION_TYPES,
  NotificationAcceptedDto,
  NotificationBatchAcceptedDto,
  NotificationDetailDto,
  NotificationPageDto,
  ONE_CASE_ID_RULE,
  PARTNER_ID_EXAMPLE,
  PublishNotificationBatchDto,
  PublishNotificationDto,
  SUPPORTED_NOTIFICATION_TYPE_IDS,
} from '@callbacks/contracts';
import { type AuditOrigin, AuditedBy } from '../audit/audit-trail';
import { Audience, callerId, CurrentPrincipal, type Principal } from '../auth/principal';
import { ApiIntakeUnavailable, ApiProblems } from '../common/api-problems';
import { DomainError } from '../common/domain-error';
import { RateLimit } from '../common/rate-limit.guard';
import { NotificationTypeParam, PartnerIdParam, RawJsonBody, UuidParam } from '../common/params';
import { GetNotification } from './use-cases/get-notification.use-case';
import { ListNotifications } from './use-cases/list-notifications.use-case';
import { PublishNotification } from './use-cases/publish-notification.use-case';
import { PublishNotificationBatch } from './use-cases/publish-notification-batch.use-case';
import { RedeliverNotification } from './use-cases/redeliver-notification.use-case';
import { SendTestNotification } from './use-cases/send-test-notification.use-case';

function idempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!IDEMPOTENCY_KEY_PATTERN.test(header)) {
    throw DomainError.validation([{ field: 'Idempotency-Key', message: IDEMPOTENCY_KEY_MESSAGE }]);
  }
  return header;
}

@ApiTags('Notifications')
@ApiBearerAuth()
@Controller()
export class NotificationsController {
  constructor(
    private readonly sendTestNotification: SendTestNotification,
    private readonly publishNotification: PublishNotification,
    private readonly publishNotificationBatch: PublishNotificationBatch,
    private readonly listNotifications: ListNotifications,
    private readonly getNotification: GetNotification,
    private readonly redeliverNotification: RedeliverNotification,
  ) {}

  @Post('v1/callbacks/echo/:partnerUniqueID/:notificationTypeID')
  @Audience('partner')
  @RateLimit('echo')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Send a test notification to your own callback',
    description:
      'The body is the payload (rawBody): exactly one of processUniqueId or simulationUniqueId. The delivery carries "test": true.',
  })
  @ApiParam({ name: 'partnerUniqueID', format: 'uuid' })
  @ApiParam({ name: 'notificationTypeID', enum: [...SUPPORTED_NOTIFICATION_TYPE_IDS] })
  @ApiBody({
    schema: { ...NOTIFICATION_PAYLOAD_SCHEMA, description: `The payload, by the schema of notificationTypeID's type. ${ONE_CASE_ID_RULE}` },
    examples: Object.fromEntries(
      NOTIFICATION_TYPES.map((type) => [type.name, { summary: `${type.id}: ${type.description}`, value: type.example }]),
    ),
  })
  @ApiAcceptedResponse({ type: NotificationAcceptedDto })
  @ApiProblems(400, 401, 403, 404, 413, 415, 422, 429)
  @ApiIntakeUnavailable()
  echo(
    @PartnerIdParam() partnerId: string,
    @NotificationTypeParam('notificationTypeID') notificationTypeId: number,
    @Body() payload: unknown,
    @RawJsonBody() rawBody: string,
  ): Promise<NotificationAcceptedDto> {
    return this.sendTestNotification.execute(partnerId, notificationTypeId, payload, rawBody);
  }

  @Post('v1/notifications')
  @Audience('admin')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Publish a platform event (operator key)',
    description: 'A partner without a callback for the type gets status "skipped".',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'The same key with the same request (partner, type and payload) within 24 hours replays the first response and sends nothing new; ' +
      'the same key with a different request is 422 idempotency_key_reused.',
  })
  @ApiBody({
    type: PublishNotificationDto,
    examples: Object.fromEntries(
      NOTIFICATION_TYPES.map((type) => [
        type.name,
        {
          summary: `${type.id}: ${type.description}`,
          value: { partnerUniqueId: PARTNER_ID_EXAMPLE, notificationTypeId: type.id, payload: type.example },
        },
      ]),
    ),
  })
  @ApiAcceptedResponse({ type: NotificationAcceptedDto })
  @ApiProblems(400, 401, 403, 404, 413, 415, 422)
  @ApiIntakeUnavailable()
  publish(
    @Body() event: PublishNotificationDto,
    @RawJsonBody() rawBody: string,
    @Headers('idempotency-key') key: string | undefined,
    @CurrentPrincipal() principal: Principal,
  ): Promise<NotificationAcceptedDto> {
    const validKey = idempotencyKey(key);
    return this.publishNotification.execute(
      event,
      rawBody,
      validKey === undefined ? undefined : { caller: callerId(principal), key: validKey, field: 'Idempotency-Key' },
    );
  }

  @Post('v1/notifications/batch')
  @Audience('admin')
  @HttpCode(202)
  @ApiOperation({
    summary: `Publish 1 to ${MAX_BATCH_NOTIFICATIONS} platform events at once (operator key)`,
    description:
      'All or nothing: every item is validated first (a 400 names each bad field as notifications[i].<field>), and when one item is refused ' +
      '(404 partner_not_found, 422 idempotency_key_reused or payload_too_complex) nothing in the batch is stored. ' +
      'One transaction, one answer per item in the order given. A partner without a callback for the type gets status "skipped". ' +
      "Each item's idempotencyKey follows the rules of the Idempotency-Key header.",
  })
  @ApiAcceptedResponse({ type: NotificationBatchAcceptedDto })
  @ApiProblems(400, 401, 403, 404, 413, 415, 422)
  @ApiIntakeUnavailable()
  publishBatch(
    @Body() batch: PublishNotificationBatchDto,
    @RawJsonBody() rawBody: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<NotificationBatchAcceptedDto> {
    return this.publishNotificationBatch.execute(batch, rawBody, callerId(principal));
  }

  @Get(':partnerUniqueID/notifications')
  @Audience('partner')
  @ApiOperation({ summary: 'The delivery log, newest first (cursor pagination)' })
  @ApiParam({ name: 'partnerUniqueID', format: 'uuid' })
  @ApiOkResponse({ type: NotificationPageDto })
  @ApiProblems(400, 401, 403, 404)
  list(@PartnerIdParam() partnerId: string, @Query() query: ListNotificationsQueryDto): Promise<NotificationPageDto> {
    return this.listNotifications.execute(partnerId, query);
  }

  @Get(':partnerUniqueID/notifications/:notificationId')
  @Audience('partner')
  @ApiOperation({ summary: 'One notification with its payload and every delivery attempt' })
  @ApiParam({ name: 'partnerUniqueID', format: 'uuid' })
  @ApiOkResponse({ type: NotificationDetailDto })
  @ApiProblems(400, 401, 403, 404)
  get(@PartnerIdParam() partnerId: string, @UuidParam('notificationId') notificationId: string): Promise<NotificationDetailDto> {
    return this.getNotification.execute(partnerId, notificationId);
  }

  @Post(':partnerUniqueID/notifications/:notificationId/redeliver')
  @Audience('partner')
  @RateLimit('echo')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Deliver again now (same webhook-id); on failure the retry schedule runs again',
    description:
      'It sends traffic, so it draws from the echo budget (ECHO_RATE_LIMIT_PER_MINUTE per partner, all its keys and sessions together, shared with the echo).',
  })
  @ApiParam({ name: 'partnerUniqueID', format: 'uuid' })
  @ApiAcceptedResponse({ type: NotificationAcceptedDto })
  @ApiProblems(400, 401, 403, 404, 429)
  redeliver(
    @PartnerIdParam() partnerId: string,
    @UuidParam('notificationId') notificationId: string,
    @AuditedBy() origin: AuditOrigin,
  ): Promise<NotificationAcceptedDto> {
    return this.redeliverNotification.execute(partnerId, notificationId, origin);
  }
}
