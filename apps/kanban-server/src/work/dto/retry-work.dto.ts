import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { MAX_RETRY_DELAY_MS } from '../work.constants';
import { SettleWorkDto } from './settle-work.dto';

export class RetryWorkDto extends SettleWorkDto {
  /** Wait before the item is handed out again. @default 0 */
  @IsOptional()
  @IsInt({ message: `must be an integer from 0 to ${MAX_RETRY_DELAY_MS}` })
  @Min(0, { message: `must be an integer from 0 to ${MAX_RETRY_DELAY_MS}` })
  @Max(MAX_RETRY_DELAY_MS, { message: `must be an integer from 0 to ${MAX_RETRY_DELAY_MS}` })
  delayMs?: number;
}
