import { IsInt, IsOptional, Max, Min } from 'class-validator';
import type { Priority } from '@tps/kanban';
import { MAX_PULL_WAIT_MS } from '../../config';
import { IsKanbanDomain, IsKanbanPriority } from '../../validation';

/** `POST /work/pull`: a whole domain (high before normal before low), or one priority of it. */
export class PullWorkDto {
  @IsKanbanDomain()
  domain!: string;

  @IsOptional()
  @IsKanbanPriority()
  priority?: Priority;

  /** Items to take at most. @default KANBAN_WORKER_PULL_SIZE */
  @IsOptional()
  @IsInt({ message: 'must be a positive integer' })
  @Min(1, { message: 'must be a positive integer' })
  max?: number;

  /** How long to wait for a first item when the queue is empty. @default 0 */
  @IsOptional()
  @IsInt({ message: `must be an integer from 0 to ${MAX_PULL_WAIT_MS}` })
  @Min(0, { message: `must be an integer from 0 to ${MAX_PULL_WAIT_MS}` })
  @Max(MAX_PULL_WAIT_MS, { message: `must be an integer from 0 to ${MAX_PULL_WAIT_MS}` })
  waitMs?: number;
}
