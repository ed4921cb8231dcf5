import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { GROUP_CURSOR_MAX_LENGTH, GROUP_PAGE_DEFAULT_LIMIT, GROUP_PAGE_MAX_LIMIT, type GroupFilter } from '@tps/kanban';

const LIMIT_RULE = `must be an integer from 1 to ${GROUP_PAGE_MAX_LIMIT}`;
const CURSOR_RULE = 'must be a nextCursor returned by a previous listing';

/** `GET /groups/:domain?limit=&cursor=` */
export class ListGroupsQuery implements GroupFilter {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: GROUP_PAGE_MAX_LIMIT, default: GROUP_PAGE_DEFAULT_LIMIT })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: LIMIT_RULE })
  @Min(1, { message: LIMIT_RULE })
  @Max(GROUP_PAGE_MAX_LIMIT, { message: LIMIT_RULE })
  limit?: number;

  @ApiPropertyOptional({ minLength: 1, maxLength: GROUP_CURSOR_MAX_LENGTH, description: '`nextCursor` of the previous page' })
  @IsOptional()
  @IsString({ message: CURSOR_RULE })
  @Length(1, GROUP_CURSOR_MAX_LENGTH, { message: CURSOR_RULE })
  cursor?: string;
}
