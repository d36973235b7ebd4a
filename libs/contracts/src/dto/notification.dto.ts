import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsNotEmpty, IsObject, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { ATTEMPT_ERROR_KINDS, NOTIFICATION_STATUSES, type NotificationStatus } from '../webhook-envelope';
import { ApiTimestamp, PageLimit, NOTIFICATION_ID_EXAMPLE, PARTNER_ID_EXAMPLE } from './api-property-helpers';

export class PublishNotificationDto {
  @ApiProperty({ format: 'uuid', example: PARTNER_ID_EXAMPLE })
  @IsUUID('all')
  partnerUniqueId: string;

  @ApiProperty({ example: 5, description: 'A type from the catalog: 5, 6 or 7.' })
  @IsInt()
  notificationTypeId: number;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The event payload; exactly one of processUniqueId or simulationUniqueId.',
    example: { processUniqueId: 'PRC-2026-000123', status: 'approved' },
  })
  @IsObject()
  payload: Record<string, unknown>;
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

  @ApiPropertyOptional({ description: 'Only notifications about this process (the payload\'s processUniqueId).', maxLength: 128 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  processUniqueId?: string;

  @ApiPropertyOptional({ description: 'Only notifications about this simulation (the payload\'s simulationUniqueId).', maxLength: 128 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  simulationUniqueId?: string;

  @PageLimit()
  limit = 50;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page.' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
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
    description: 'circuit_open: the attempt fell due while the callback\'s circuit was open, and nothing was sent. worker_crash: the job crashed workers repeatedly and was stopped.',
  })
  error: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The first 1 KiB of the response body.', example: 'Internal Server Error' })
  responseBody: string | null;
}

export class NotificationDetailDto extends NotificationSummaryDto {
  @ApiProperty({ type: 'object', additionalProperties: true, example: { processUniqueId: 'PRC-2026-000123', status: 'approved' } })
  payload: Record<string, unknown>;

  @ApiProperty({ type: String, nullable: true, description: 'Why the notification was skipped or failed.', example: null })
  statusReason: string | null;

  @ApiProperty({ type: [DeliveryAttemptDto] })
  attempts: DeliveryAttemptDto[];
}
