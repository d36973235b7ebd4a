import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional } from 'class-validator';
import { ISO_TIME_EXAMPLE } from './api-property-helpers';

/** At most this many notifications per recovery call; a larger window is refused (422). */
export const MAX_RECOVERY_NOTIFICATIONS = 10_000;

export class RecoverNotificationsDto {
  @ApiProperty({
    format: 'date-time',
    example: ISO_TIME_EXAMPLE,
    description: 'Start of the window (inclusive), by the time each notification was accepted; not older than RETENTION_PERIOD.',
  })
  @IsISO8601({ strict: true, strictSeparator: true })
  since: string;

  @ApiPropertyOptional({
    format: 'date-time',
    example: '2026-11-27T10:00:00.000Z',
    description: 'End of the window (exclusive); default now.',
  })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  until?: string;
}

export class RecoveringDto {
  @ApiProperty({
    example: 42,
    description:
      'Notifications given a new delivery round (same webhook-id): failed, or skipped while the service had disabled the callback (callback_disabled, not callback_paused), in the window',
  })
  recovering: number;
}
