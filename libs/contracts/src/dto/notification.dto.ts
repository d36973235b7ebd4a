import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
} from 'class-validator';
import { NOTIFICATION_TYPES, ONE_CASE_ID_RULE, SUPPORTED_NOTIFICATION_TYPE_IDS } from '../notification-types';
import { ATTEMPT_ERROR_KINDS, NOTIFICATION_STATUSES, type NotificationStatus } from '../webhook-envelope';
import { ApiTimestamp, PageCursor, PageLimit, NOTIFICATION_ID_EXAMPLE, PARTNER_ID_EXAMPLE } from './api-property-helpers';

/**
 * A payload in the OpenAPI document: one of the catalog's per-type schemas (the document's components
 * named by each schema's title, the very objects that validate at intake).
 */
export const NOTIFICATION_PAYLOAD_SCHEMA = {
  anyOf: NOTIFICATION_TYPES.map((type) => ({ $ref: `#/components/schemas/${type.payloadSchema.title}` })),
};

export class PublishNotificationDto {
  @ApiProperty({ format: 'uuid', example: PARTNER_ID_EXAMPLE })
  @IsUUID('all')
  partnerUniqueId: string;

  @ApiProperty({ type: 'integer', enum: [...SUPPORTED_NOTIFICATION_TYPE_IDS], example: 5, description: 'A type from the catalog.' })
  @IsInt()
  notificationTypeId: number;

  @ApiProperty({
    ...NOTIFICATION_PAYLOAD_SCHEMA,
    description: `The event payload, by the schema of notificationTypeId's type. ${ONE_CASE_ID_RULE}`,
  })
  @IsObject()
  payload: Record<string, unknown>;
}

/** An Idempotency-Key, given as a header or as a batch item's idempotencyKey. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
export const IDEMPOTENCY_KEY_MESSAGE = 'must be 1 to 255 printable ASCII characters';
/** A batch holds 1 to this many notifications. */
export const MAX_BATCH_NOTIFICATIONS = 500;

export class PublishNotificationBatchItemDto extends PublishNotificationDto {
  @ApiPropertyOptional({
    example: 'evt-2026-000123',
    description:
      'Like the Idempotency-Key header, per notification: the same key with the same partner, type and payload within 24 hours replays the first answer; ' +
      'with anything else it is 422 idempotency_key_reused (and the batch stores nothing).',
  })
  @IsOptional()
  @IsString()
  @Matches(IDEMPOTENCY_KEY_PATTERN, { message: IDEMPOTENCY_KEY_MESSAGE })
  idempotencyKey?: string;
}

export class PublishNotificationBatchDto {
  /** Items are validated one by one by the use case, so that errors name notifications[i].<field>. */
  @ApiProperty({ type: [PublishNotificationBatchItemDto], minItems: 1, maxItems: MAX_BATCH_NOTIFICATIONS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH_NOTIFICATIONS)
  notifications: unknown[];
}

export class NotificationAcceptedDto {
  @ApiProperty({ format: 'uuid', example: NOTIFICATION_ID_EXAMPLE })
  notificationId: string;

  @ApiProperty({ enum: ['pending', 'skipped'], example: 'pending' })
  status: NotificationStatus;
}

export class ListNotificationsQueryDto {
  @ApiPropertyOptional({ enum: NOTIFICATION_STATUSES })
  @IsOptional()
  @IsIn(NOTIFICATION_STATUSES)
  status?: NotificationStatus;

  @ApiPropertyOptional({ example: 5 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  notificationTypeId?: number;

  @ApiPropertyOptional({ description: "Only notifications about this process (the payload's processUniqueId).", maxLength: 128 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  processUniqueId?: string;

  @ApiPropertyOptional({ description: "Only notifications about this simulation (the payload's simulationUniqueId).", maxLength: 128 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  simulationUniqueId?: string;

  @PageLimit()
  limit = 50;

  @PageCursor()
  cursor?: string;
}

export class NotificationSummaryDto {
  @ApiProperty({ format: 'uuid', example: NOTIFICATION_ID_EXAMPLE })
  notificationId: string;

  @ApiProperty({ example: 5 })
  notificationTypeId: number;

  @ApiProperty({ enum: NOTIFICATION_STATUSES, example: 'delivered' })
  status: NotificationStatus;

  @ApiProperty({ example: 1 })
  attemptCount: number;

  @ApiProperty({ example: false })
  test: boolean;

  @ApiProperty({ type: String, nullable: true, description: 'The process the notification is about.', example: 'PRC-2026-000123' })
  processUniqueId: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The simulation the notification is about.', example: null })
  simulationUniqueId: string | null;

  @ApiTimestamp('When the event was accepted.')
  createdAt: string;

  @ApiTimestamp('When the last attempt was made.', true)
  lastAttemptAt: string | null;

  @ApiTimestamp('When the next attempt is due (pending only).', true)
  nextAttemptAt: string | null;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: null,
    description: 'For a callback with delivery.ordering "case": its place in its case (the envelope\'s "sequence"); null otherwise.',
  })
  sequence: number | null;

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    example: null,
    description:
      'A pending notification of an ordered callback held back until the previous notification of its case (this id) is delivered or ' +
      'has failed; null when it is not held.',
  })
  waitingFor: string | null;
}

export class NotificationPageDto {
  @ApiProperty({ type: [NotificationSummaryDto] })
  items: NotificationSummaryDto[];

  @ApiProperty({ type: String, nullable: true, example: null, description: 'Pass as `cursor` for the next (older) page.' })
  nextCursor: string | null;
}

export class DeliveryAttemptDto {
  @ApiProperty({ example: 1 })
  attempt: number;

  @ApiTimestamp('When the attempt started.')
  at: string;

  @ApiProperty({ example: 'https://partner.example.com/webhooks/partner-callbacks' })
  callbackUrl: string;

  @ApiProperty({ type: Number, nullable: true, example: 500 })
  statusCode: number | null;

  @ApiProperty({ example: 42 })
  durationMs: number;

  @ApiProperty({
    type: String,
    nullable: true,
    enum: [...ATTEMPT_ERROR_KINDS, null],
    example: null,
    description:
      "circuit_open: the attempt fell due while the callback's circuit was open, and nothing was sent. worker_crash: the job crashed workers repeatedly and was stopped. " +
      'tls_error: the TLS handshake failed (the endpoint’s certificate, or it refused ours). proxy_error: the egress proxy could not be reached or ' +
      'did not open the tunnel (our infrastructure; it does not count against the callback). auth_error: no OAuth2 token could be obtained. ' +
      'tls: attempts recorded before tls_error.',
  })
  error: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Why a tls_error, proxy_error or auth_error happened, in a line; null otherwise.',
    example: null,
  })
  errorDetail: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The first 1 KiB of the response body.', example: 'Internal Server Error' })
  responseBody: string | null;
}

export class NotificationDetailDto extends NotificationSummaryDto {
  @ApiProperty({ ...NOTIFICATION_PAYLOAD_SCHEMA, description: "The payload as accepted, by the schema of notificationTypeId's type." })
  payload: Record<string, unknown>;

  @ApiProperty({ type: String, nullable: true, description: 'Why the notification was skipped or failed.', example: null })
  statusReason: string | null;

  @ApiProperty({ type: [DeliveryAttemptDto] })
  attempts: DeliveryAttemptDto[];
}

export class NotificationBatchAcceptedDto {
  @ApiProperty({ type: [NotificationAcceptedDto], description: 'One answer per notification, in the order given.' })
  results: NotificationAcceptedDto[];
}
