import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { DEAD_LETTER_DEFAULT_LIMIT, DEAD_LETTER_MAX_LIMIT, DEAD_LETTER_REASONS, type DeadLetterFilter, type DeadLetterReason } from '@tps/kanban';
import { DOMAIN_PROPERTY } from '../../openapi/schemas';
import { IsKanbanDomain } from '../../validation';

/** Most dead letters one `GET /dead-letters` returns. */
export const MAX_DEAD_LETTER_PAGE = DEAD_LETTER_MAX_LIMIT;
/** Longest search text: a payload fragment or an id. */
export const MAX_DEAD_LETTER_SEARCH_TEXT = 200;
/** Longer than any cursor the library hands out. */
const MAX_CURSOR_LENGTH = 64;

/** `GET /dead-letters?domain=&reason=&text=&limit=&cursor=` */
export class ListDeadLettersQuery implements DeadLetterFilter {
  @ApiPropertyOptional(DOMAIN_PROPERTY)
  @IsOptional()
  @IsKanbanDomain()
  domain?: string;

  @ApiPropertyOptional({ enum: DEAD_LETTER_REASONS, enumName: 'DeadLetterReason' })
  @IsOptional()
  @IsIn(DEAD_LETTER_REASONS, { message: `must be one of ${DEAD_LETTER_REASONS.join(', ')}` })
  reason?: DeadLetterReason;

  /** @default 100 */
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_DEAD_LETTER_PAGE, default: DEAD_LETTER_DEFAULT_LIMIT })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: `must be an integer from 1 to ${MAX_DEAD_LETTER_PAGE}` })
  @Min(1, { message: `must be an integer from 1 to ${MAX_DEAD_LETTER_PAGE}` })
  @Max(MAX_DEAD_LETTER_PAGE, { message: `must be an integer from 1 to ${MAX_DEAD_LETTER_PAGE}` })
  limit?: number;

  /** Only letters whose id, error or payload contains this text (any case); the scan per request is bounded. */
  @IsOptional()
  @IsString({ message: `must be text of 1 to ${MAX_DEAD_LETTER_SEARCH_TEXT} characters` })
  @Length(1, MAX_DEAD_LETTER_SEARCH_TEXT, { message: `must be text of 1 to ${MAX_DEAD_LETTER_SEARCH_TEXT} characters` })
  text?: string;

  /** `nextCursor` of the previous page. */
  @ApiPropertyOptional({ minLength: 1, maxLength: MAX_CURSOR_LENGTH, description: '`nextCursor` of the previous page' })
  @IsOptional()
  @IsString({ message: 'must be a nextCursor returned by a previous listing' })
  @Length(1, MAX_CURSOR_LENGTH, { message: 'must be a nextCursor returned by a previous listing' })
  cursor?: string;
}
