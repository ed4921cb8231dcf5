import { IsInt, IsOptional, IsString, Min, ValidateBy, type ValidationArguments } from 'class-validator';
import type { Priority, PublishRequest } from '@tps/kanban';
import { IsKanbanDomain, IsKanbanPriority, JsonValue } from '../../validation';

function deadlineProblem({ deadline, deadlineMs }: PublishWorkDto): string | undefined {
  if (deadline === undefined) return deadlineMs === undefined ? 'is required (or deadlineMs)' : undefined;
  if (deadlineMs !== undefined) return 'give deadline or deadlineMs, not both';
  if (!Number.isSafeInteger(deadline)) return 'must be an integer epoch in ms';
  return deadline > Date.now() ? undefined : 'must be in the future';
}

function IsStringMap(): PropertyDecorator {
  return ValidateBy({
    name: 'isStringMap',
    validator: {
      validate: (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string'),
      defaultMessage: () => 'must be an object of string values',
    },
  });
}

/**
 * `POST /work`. Shapes are checked here, all fields at once; the library then applies the rules
 * that depend on configuration or its own limits (payload size, header names, key length), with
 * the same 400.
 */
export class PublishWorkDto implements PublishRequest {
  @IsKanbanPriority()
  priority!: Priority;

  @IsKanbanDomain()
  domain!: string;

  @JsonValue({ required: true })
  payload!: unknown;

  /** Absolute deadline, epoch ms. */
  @ValidateBy({
    name: 'isDeadline',
    validator: {
      validate: (_value: unknown, args?: ValidationArguments) => deadlineProblem(args?.object as PublishWorkDto) === undefined,
      defaultMessage: (args?: ValidationArguments) => deadlineProblem(args?.object as PublishWorkDto) ?? '',
    },
  })
  deadline?: number;

  /** Deadline relative to now, ms. */
  @IsOptional()
  @IsInt({ message: 'must be a positive integer number of ms' })
  @Min(1, { message: 'must be a positive integer number of ms' })
  deadlineMs?: number;

  @IsOptional()
  @IsString({ message: 'must be a string' })
  idempotencyKey?: string;

  @IsOptional()
  @IsStringMap()
  headers?: Record<string, string>;
}
