import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsNotEmpty, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { MAX_RETRY_DELAY_MS, MAX_RETRY_ERROR_LENGTH } from '../work.constants';
import { SettleWorkDto } from './settle-work.dto';

const ERROR_MESSAGE = `must be a string of 1 to ${MAX_RETRY_ERROR_LENGTH} characters`;

export class RetryWorkDto extends SettleWorkDto {
  /** Wait before the item is handed out again. @default 0 */
  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: MAX_RETRY_DELAY_MS, default: 0, description: 'Wait before the item is handed out again, ms' })
  @IsOptional()
  @IsInt({ message: `must be an integer from 0 to ${MAX_RETRY_DELAY_MS}` })
  @Min(0, { message: `must be an integer from 0 to ${MAX_RETRY_DELAY_MS}` })
  @Max(MAX_RETRY_DELAY_MS, { message: `must be an integer from 0 to ${MAX_RETRY_DELAY_MS}` })
  delayMs?: number;

  /** Why this attempt failed; kept with the dead letter when it was the last attempt. */
  @ApiPropertyOptional({ minLength: 1, maxLength: MAX_RETRY_ERROR_LENGTH, description: 'Why this attempt failed; kept with the dead letter when it was the last' })
  @IsOptional()
  @IsString({ message: ERROR_MESSAGE })
  @IsNotEmpty({ message: ERROR_MESSAGE })
  @MaxLength(MAX_RETRY_ERROR_LENGTH, { message: ERROR_MESSAGE })
  error?: string;
}
