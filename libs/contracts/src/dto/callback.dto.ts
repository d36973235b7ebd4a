import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsInt, IsNotEmpty, IsOptional, IsString, Max, Min } from 'class-validator';
import { ApiTimestamp, PageLimit, PARTNER_ID_EXAMPLE } from './api-property-helpers';
import { IsCallbackHeaders } from './callback-headers';

export const CALLBACK_HEALTH = ['ok', 'degraded', 'open'] as const;
export type CallbackHealth = (typeof CALLBACK_HEALTH)[number];
/** partner: the partner PUT `enabled: false`; failing: every attempt failed for CALLBACK_DISABLE_AFTER. */
export const CALLBACK_DISABLED_REASONS = ['partner', 'failing'] as const;
export type CallbackDisabledReason = (typeof CALLBACK_DISABLED_REASONS)[number];

export class PutCallbackDto {
  @ApiProperty({
    description: 'Absolute https URL (at most 2048 characters) on a public host.',
    example: 'https://partner.example.com/webhooks/partner-callbacks',
  })
  @IsString()
  @IsNotEmpty()
  callbackUrl: string;

  @ApiPropertyOptional({
    description:
      'Extra headers sent with every delivery (at most 20; values up to 1024 characters of tab, visible ASCII, space or U+0080–U+00FF). ' +
      'Names the service sets itself (webhook-*, content-type, content-length, host, user-agent) and connection-level ones ' +
      '(connection, expect, keep-alive, transfer-encoding, upgrade) are refused with a 400 naming headers.<name>. Values are stored encrypted.',
    example: { 'X-Partner-Token': 'abc123' },
    type: 'object',
    additionalProperties: { type: 'string' },
  })
  @IsOptional()
  @IsCallbackHeaders()
  headers?: Record<string, string>;

  @ApiPropertyOptional({
    description:
      'Disabled callbacks receive nothing (new events are recorded skipped); defaults to true. A PUT with true re-enables a callback disabled for failing.',
    example: true,
  })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class CallbackDto {
  @ApiProperty({ format: 'uuid', example: PARTNER_ID_EXAMPLE })
  partnerUniqueId: string;

  @ApiProperty({ example: 5 })
  notificationTypeId: number;

  @ApiProperty({ example: 'status.changed' })
  notificationType: string;

  @ApiProperty({ example: 'https://partner.example.com/webhooks/partner-callbacks' })
  callbackUrl: string;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { 'X-Partner-Token': 'abc123' } })
  headers: Record<string, string>;

  @ApiProperty({ example: true })
  enabled: boolean;

  @ApiProperty({
    enum: CALLBACK_DISABLED_REASONS,
    nullable: true,
    example: null,
    description:
      'null while enabled; "partner" when disabled by a PUT with enabled: false; "failing" when disabled automatically after CALLBACK_DISABLE_AFTER of failures (a PUT re-enables it)',
  })
  disabledReason: CallbackDisabledReason | null;

  @ApiTimestamp('When the callback was disabled; null while enabled.', true)
  disabledAt: string | null;

  @ApiTimestamp('The first failed attempt of the current failure streak (no success since); null while healthy.', true)
  failingSince: string | null;

  @ApiTimestamp('The last successful delivery (to about a second); null before the first.', true)
  lastSuccessAt: string | null;

  @ApiProperty({
    enum: CALLBACK_HEALTH,
    example: 'ok',
    description:
      'ok: delivering; degraded: recent consecutive failures; open: deliveries held back after repeated failures, probed again later',
  })
  health: CallbackHealth;

  @ApiTimestamp('When the callback was registered.')
  createdAt: string;

  @ApiTimestamp('When the callback was last changed.')
  updatedAt: string;
}

export class CallbackCreatedDto extends CallbackDto {
  @ApiProperty({ description: 'Returned on creation; read it again through /secret.', example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })
  signingSecret: string;
}

export class CallbackListDto {
  @ApiProperty({ type: [CallbackDto] })
  items: CallbackDto[];

  @ApiProperty({ example: 2 })
  total: number;
}

export class ListCallbacksQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  offset = 0;

  @PageLimit()
  limit = 50;
}

export class SigningSecretDto {
  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })
  signingSecret: string;
}
