import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ERROR_CODES, type ErrorCode } from '../problem';

export class FieldErrorDto {
  @ApiProperty({ example: 'callbackUrl' })
  field: string;

  @ApiProperty({ example: 'must be an https URL' })
  message: string;
}

export class ProblemDto {
  @ApiProperty({ example: 'about:blank' })
  type: string;

  @ApiProperty({ example: 'Bad Request' })
  title: string;

  @ApiProperty({ example: 400 })
  status: number;

  @ApiProperty({ example: 'callbackUrl must be an https URL' })
  detail: string;

  @ApiProperty({ enum: ERROR_CODES, example: 'validation_failed' })
  code: ErrorCode;

  @ApiPropertyOptional({ type: [FieldErrorDto] })
  errors?: FieldErrorDto[];
}
