import { IsInt, IsOptional, IsString, Min, ValidateBy, type ValidationArguments } from 'class-validator';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { Priority, PublishRequest } from '@tps/kanban';
import { ANY_JSON_VALUE, DOMAIN_PROPERTY, GROUP_PROPERTY, PRIORITY_PROPERTY, STRING_MAP } from '../../openapi/schemas';
import { IsKanbanDomain, IsKanbanGroup, IsKanbanPriority, JsonValue } from '../../validation';

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
  @ApiProperty(PRIORITY_PROPERTY)
  @IsKanbanPriority()
  priority!: Priority;

  @ApiProperty(DOMAIN_PROPERTY)
  @IsKanbanDomain()
  domain!: string;

  @ApiProperty({ ...ANY_JSON_VALUE, description: 'Any JSON value; its encoded size is at most the payload limit' })
  @JsonValue({ required: true })
  payload!: unknown;

  /** Absolute deadline, epoch ms. */
  @ApiPropertyOptional({ type: 'integer', description: 'Absolute deadline, epoch ms, in the future; give this or deadlineMs' })
  @ValidateBy({
    name: 'isDeadline',
    validator: {
      validate: (_value: unknown, args?: ValidationArguments) => deadlineProblem(args?.object as PublishWorkDto) === undefined,
      defaultMessage: (args?: ValidationArguments) => deadlineProblem(args?.object as PublishWorkDto) ?? '',
    },
  })
  deadline?: number;

  /** Deadline relative to now, ms. */
  @ApiPropertyOptional({ type: 'integer', minimum: 1, description: 'Deadline relative to now, ms; give this or deadline' })
  @IsOptional()
  @IsInt({ message: 'must be a positive integer number of ms' })
  @Min(1, { message: 'must be a positive integer number of ms' })
  deadlineMs?: number;

  @ApiPropertyOptional({ description: 'Publishes with the same key inside the dedup window become one item' })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  idempotencyKey?: string;

  @ApiPropertyOptional({ ...STRING_MAP, description: 'Carried with the item, e.g. trace context' })
  @IsOptional()
  @IsStringMap()
  headers?: Record<string, string>;

  @ApiPropertyOptional(GROUP_PROPERTY)
  @IsOptional()
  @IsKanbanGroup()
  group?: string;
}
