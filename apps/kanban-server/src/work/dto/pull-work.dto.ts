import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { Priority } from '@tps/kanban';
import { MAX_PULL_WAIT_MS } from '../../config';
import { DOMAIN_PROPERTY, PRIORITY_PROPERTY } from '../../openapi/schemas';
import { IsKanbanDomain, IsKanbanPriority } from '../../validation';

/** `POST /work/pull`: a whole domain (high before normal before low), or one priority of it. */
export class PullWorkDto {
  @ApiProperty(DOMAIN_PROPERTY)
  @IsKanbanDomain()
  domain!: string;

  @ApiPropertyOptional({ ...PRIORITY_PROPERTY, description: 'One priority only; absent: high before normal before low' })
  @IsOptional()
  @IsKanbanPriority()
  priority?: Priority;

  /** Items to take at most. @default KANBAN_WORKER_PULL_SIZE */
  @ApiPropertyOptional({ type: 'integer', minimum: 1, description: 'Items to take at most; default KANBAN_WORKER_PULL_SIZE' })
  @IsOptional()
  @IsInt({ message: 'must be a positive integer' })
  @Min(1, { message: 'must be a positive integer' })
  max?: number;

  /** How long to wait for a first item when the queue is empty. @default 0 */
  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: MAX_PULL_WAIT_MS, default: 0, description: 'How long to wait for a first item when the queue is empty, ms' })
  @IsOptional()
  @IsInt({ message: `must be an integer from 0 to ${MAX_PULL_WAIT_MS}` })
  @Min(0, { message: `must be an integer from 0 to ${MAX_PULL_WAIT_MS}` })
  @Max(MAX_PULL_WAIT_MS, { message: `must be an integer from 0 to ${MAX_PULL_WAIT_MS}` })
  waitMs?: number;
}
