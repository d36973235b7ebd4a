import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsUUID } from 'class-validator';
import { ApiTimestamp, ISO_TIME_EXAMPLE, PageCursor, PageLimit, PARTNER_ID_EXAMPLE } from './api-property-helpers';

/** Every kind of change the audit trail records (issue 18). */
export const AUDIT_ACTIONS = [
  'api_key_issued',
  'api_key_revoked',
  'portal_link_created',
  'portal_session_started',
  'portal_session_ended',
  'callback_created',
  'callback_updated',
  'callback_enabled',
  'callback_disabled',
  'callback_deleted',
  'signing_secret_revealed',
  'signing_secret_rotated',
  'notification_redelivered',
  'notifications_recovered',
  'partner_erased',
  'case_erased',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AUDIT_ACTOR_KINDS = ['operator', 'api_key', 'portal_session'] as const;

export class ListAuditQueryDto {
  @ApiPropertyOptional({ format: 'uuid', example: PARTNER_ID_EXAMPLE, description: 'Only entries about this partner.' })
  @IsOptional()
  @IsUUID('all')
  partnerUniqueId?: string;

  @ApiPropertyOptional({ format: 'date-time', example: ISO_TIME_EXAMPLE, description: 'Only entries written at or after this time.' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  since?: string;

  @PageLimit()
  limit = 50;

  @PageCursor()
  cursor?: string;
}

export class AuditActorDto {
  @ApiProperty({ enum: AUDIT_ACTOR_KINDS, example: 'api_key' })
  kind: (typeof AUDIT_ACTOR_KINDS)[number];

  @ApiProperty({
    type: String,
    nullable: true,
    example: '7a0c9d3e-2b1f-4c5d-8e6f-9a0b1c2d3e4f',
    description: 'The API key id or the portal session id; null for the operator.',
  })
  id: string | null;
}

export class AuditEntryDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiTimestamp('When the change was made.')
  at: string;

  @ApiProperty({ enum: AUDIT_ACTIONS, example: 'callback_updated' })
  action: AuditAction;

  @ApiProperty({ type: AuditActorDto })
  actor: AuditActorDto;

  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'null for a case erasure, which spans partners.' })
  partnerUniqueId: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'notification_type:5',
    description:
      'What was changed, as kind:id: notification_type:<id>, api_key:<id>, portal_session:<id>, notification:<id>, partner:<id>, process:<id> or simulation:<id>.',
  })
  target: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { previousCallbackUrl: 'https://old.example/hooks', callbackUrl: 'https://partner.example/hooks' },
    description: 'Facts about the change (URLs, ids, counts); never a secret, a header value or a payload.',
  })
  details: Record<string, unknown>;

  @ApiProperty({ type: String, nullable: true, description: 'The x-request-id of the request that made the change.' })
  requestId: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '203.0.113.7',
    description:
      "The address the request came from: the connection's, or behind a load balancer listed in TRUST_PROXY the client address its X-Forwarded-For names.",
  })
  sourceAddress: string | null;
}

export class AuditPageDto {
  @ApiProperty({ type: [AuditEntryDto] })
  items: AuditEntryDto[];

  @ApiProperty({ type: String, nullable: true, example: null, description: 'Pass as `cursor` for the next page.' })
  nextCursor: string | null;
}
