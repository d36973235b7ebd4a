import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
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
