import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Max, Min, ValidateNested } from 'class-validator';
import { ApiTimestamp, PageLimit, PARTNER_ID_EXAMPLE } from './api-property-helpers';
import { CallbackDeliveryDto, CallbackDeliveryPolicyDto } from './callback-delivery';
import { IsCallbackHeaders } from './callback-headers';
import {
  AUTH_TYPES,
  type CallbackAuthConfig,
  CallbackAuthDto,
  CallbackTlsDto,
  SIGNATURE_SCHEMES,
  type SignatureScheme,
} from './callback-transport';

export const CALLBACK_HEALTH = ['ok', 'degraded', 'open'] as const;
export type CallbackHealth = (typeof CALLBACK_HEALTH)[number];
/**
 * partner: the partner PUT `enabled: false`; failing: every attempt failed for CALLBACK_DISABLE_AFTER;
 * gone: the endpoint answered 410 Gone (Standard Webhooks: the receiver wants no more).
 */
export const CALLBACK_DISABLED_REASONS = ['partner', 'failing', 'gone'] as const;
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

  @ApiPropertyOptional({
    enum: SIGNATURE_SCHEMES,
    default: 'hmac',
    description:
      'hmac: webhook-signature carries v1 (HMAC-SHA256 with the signing secret); ed25519: v1a (Standard Webhooks asymmetric, verified ' +
      'with the key at …/public-key; the key pair is made by the service, the private key stored encrypted); both: v1 and v1a side by ' +
      'side, for a partner moving from one to the other. Omitted: hmac.',
  })
  @IsOptional()
  @IsIn([...SIGNATURE_SCHEMES])
  signature?: SignatureScheme;

  @ApiPropertyOptional({
    type: CallbackTlsDto,
    nullable: true,
    description: 'TLS settings of the endpoint; omitted or null: the public roots.',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => CallbackTlsDto)
  tls?: CallbackTlsDto | null;

  @ApiPropertyOptional({
    type: CallbackAuthDto,
    nullable: true,
    description:
      'OAuth2 client credentials: every delivery carries Authorization: Bearer <token> from tokenUrl (fetched once and shared until ' +
      'shortly before it expires; a 401 fetches a new one once). Omitted or null: none. A custom Authorization header cannot be set with it.',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => CallbackAuthDto)
  auth?: CallbackAuthDto | null;

  @ApiPropertyOptional({
    type: CallbackDeliveryDto,
    description:
      "How deliveries to this callback are paced and ordered; every field optional. Omitted (or a field omitted): the operator's defaults, " +
      'which keep the behaviour of callbacks that never chose (unordered, CALLBACK_MAX_IN_FLIGHT, no rate limit, DELIVERY_TIMEOUT_MS).',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => CallbackDeliveryDto)
  delivery?: CallbackDeliveryDto;
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
      'null while enabled; "partner" when disabled by a PUT with enabled: false; "failing" when disabled automatically after CALLBACK_DISABLE_AFTER of failures; ' +
      '"gone" when disabled at once because the endpoint answered 410 Gone (a PUT re-enables it after either)',
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

  @ApiProperty({ enum: SIGNATURE_SCHEMES, example: 'hmac', description: 'How deliveries are signed: v1 (hmac), v1a (ed25519) or both.' })
  signature: SignatureScheme;

  // Inline schemas: OpenAPI 3.0 ignores `nullable` beside a $ref, and these are null when not set.
  @ApiProperty({
    type: 'object',
    nullable: true,
    required: ['caCertificate'],
    properties: { caCertificate: { type: 'string', description: 'PEM of the CA certificate(s) the endpoint must chain to.' } },
    example: null,
  })
  tls: CallbackTlsDto | null;

  @ApiProperty({
    type: 'object',
    nullable: true,
    required: ['type', 'tokenUrl', 'clientId', 'scope'],
    properties: {
      type: { type: 'string', enum: [...AUTH_TYPES] },
      tokenUrl: { type: 'string' },
      clientId: { type: 'string' },
      scope: { type: 'string', nullable: true },
    },
    example: null,
    description: 'The OAuth2 client credentials, without the secret (write-only).',
  })
  auth: CallbackAuthConfig | null;

  @ApiProperty({ type: CallbackDeliveryPolicyDto, description: "The delivery policy in force (defaults and the operator's caps applied)." })
  delivery: CallbackDeliveryPolicyDto;

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

export class RotatedSigningKeysDto extends SigningSecretDto {
  @ApiPropertyOptional({
    description: 'For an ed25519 or both callback: the new public key (the old one still signs for 24 hours, see …/public-key).',
    example: 'whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=',
  })
  publicKey?: string;
}
