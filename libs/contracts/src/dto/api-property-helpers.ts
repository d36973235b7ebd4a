import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsNotEmpty, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export const ISO_TIME_EXAMPLE = '2026-11-26T10:00:00.000Z';
export const PARTNER_ID_EXAMPLE = '3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b';
export const NOTIFICATION_ID_EXAMPLE = '0d9b7c2e-1f3a-4b5c-8d6e-7f8091a2b3c4';

/** A read-only ISO-8601 timestamp property. */
export const ApiTimestamp = (description: string, nullable = false) =>
  ApiProperty({ description, example: ISO_TIME_EXAMPLE, type: String, format: 'date-time', nullable });

export const MAX_PAGE_LIMIT = 200;

/** The `limit` query parameter of every list: 1 to 200, default 50 (set by the property initialiser). */
export const PageLimit = () =>
  applyDecorators(
    ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_PAGE_LIMIT, default: 50 }),
    IsOptional(),
    Type(() => Number),
    IsInt(),
    Min(1),
    Max(MAX_PAGE_LIMIT),
  );

/** The `cursor` query parameter of every cursor-paged list: the nextCursor of the previous page. */
export const PageCursor = () =>
  applyDecorators(
    ApiPropertyOptional({ description: 'The nextCursor of the previous page.' }),
    IsOptional(),
    IsString(),
    IsNotEmpty(),
    MaxLength(200),
  );
