import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { ApiTimestamp, PARTNER_ID_EXAMPLE } from './api-property-helpers';

export class CreatePartnerDto {
  @ApiProperty({ example: 'Acme Mortgages', maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;
}

export class PartnerCreatedDto {
  @ApiProperty({ example: PARTNER_ID_EXAMPLE, format: 'uuid' })
  partnerUniqueId: string;

  @ApiProperty({ example: 'Acme Mortgages' })
  name: string;

  @ApiProperty({ description: 'Shown once; only a hash is stored.', example: 'pc_live_Yk3n…' })
  apiKey: string;

  @ApiTimestamp('When the partner was created.')
  createdAt: string;
}

export class ApiKeyCreatedDto {
  @ApiProperty({ format: 'uuid', example: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d' })
  apiKeyId: string;

  @ApiProperty({ description: 'Shown once; only a hash is stored.', example: 'pc_live_Yk3n…' })
  apiKey: string;
}

/** A data subject's erasure request: exactly one of the two case ids. */
export class EraseCaseDto {
  @ApiPropertyOptional({
    description: 'Erase every notification about this process. Give exactly one of the two fields.',
    example: 'PRC-2026-000123',
    maxLength: 128,
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  processUniqueId?: string;

  @ApiPropertyOptional({
    description: 'Erase every notification about this simulation. Give exactly one of the two fields.',
    example: 'SIM-2026-004567',
    maxLength: 128,
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  simulationUniqueId?: string;
}

export class CaseErasedDto {
  @ApiProperty({
    description: 'Notifications deleted, with their attempts, across every partner; pending ones were cancelled.',
    example: 3,
  })
  deletedNotifications: number;
}
