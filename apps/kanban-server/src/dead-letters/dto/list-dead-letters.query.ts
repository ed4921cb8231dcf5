import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { DEAD_LETTER_REASONS, type DeadLetterFilter, type DeadLetterReason } from '@tps/kanban';
import { IsKanbanDomain } from '../../validation';

/** Most dead letters one `GET /dead-letters` returns. */
export const MAX_DEAD_LETTER_PAGE = 1000;

/** `GET /dead-letters?domain=&reason=&limit=` */
export class ListDeadLettersQuery implements DeadLetterFilter {
  @IsOptional()
  @IsKanbanDomain()
  domain?: string;

  @IsOptional()
  @IsIn(DEAD_LETTER_REASONS, { message: `must be one of ${DEAD_LETTER_REASONS.join(', ')}` })
  reason?: DeadLetterReason;

  /** @default 100 */
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: `must be an integer from 1 to ${MAX_DEAD_LETTER_PAGE}` })
  @Min(1, { message: `must be an integer from 1 to ${MAX_DEAD_LETTER_PAGE}` })
  @Max(MAX_DEAD_LETTER_PAGE, { message: `must be an integer from 1 to ${MAX_DEAD_LETTER_PAGE}` })
  limit?: number;
}
