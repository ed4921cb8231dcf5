import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, Matches, Min, ValidateBy, type ValidationArguments } from 'class-validator';
import type { BusyBehavior, CatchUpPolicy, Priority } from '@tps/kanban';
import { ANY_JSON_VALUE, DOMAIN_PROPERTY, PRIORITY_PROPERTY } from '../../openapi/schemas';
import { IsKanbanDomain, IsKanbanPriority, JsonValue } from '../../validation';

export const SCHEDULE_TYPES = ['interval', 'cron'] as const;
export type ScheduleType = (typeof SCHEDULE_TYPES)[number];
const BUSY_BEHAVIORS: readonly BusyBehavior[] = ['skip', 'stretch'];
const CATCH_UP_POLICIES: readonly CatchUpPolicy[] = ['none', 'one', 'all'];
/** Schedule names become jobIds in URLs and log lines: kept to a safe alphabet. */
const SCHEDULE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** The timing field of a schedule type: required for that type, refused for the other. */
function TimingField(field: 'intervalMs' | 'cron', type: ScheduleType, check: (value: unknown) => string | undefined): PropertyDecorator {
  const problem = (value: unknown, dto: CreateScheduleDto): string | undefined => {
    if (dto.type !== type) return value === undefined || !SCHEDULE_TYPES.includes(dto.type) ? undefined : `applies to type ${type} only`;
    return value === undefined ? `is required for type ${type}` : check(value);
  };
  return ValidateBy({
    name: `is${field}`,
    validator: {
      validate: (value: unknown, args?: ValidationArguments) => problem(value, args?.object as CreateScheduleDto) === undefined,
      defaultMessage: (args?: ValidationArguments) => problem(args?.value, args?.object as CreateScheduleDto) ?? '',
    },
  });
}

/** `POST /schedules`: publish `payload` to (priority, domain) on an interval or a cron expression. */
export class CreateScheduleDto {
  @ApiProperty({ enum: SCHEDULE_TYPES, description: 'interval needs intervalMs, cron needs cron' })
  @IsIn(SCHEDULE_TYPES, { message: `must be one of ${SCHEDULE_TYPES.join(', ')}` })
  type!: ScheduleType;

  @ApiProperty(PRIORITY_PROPERTY)
  @IsKanbanPriority()
  priority!: Priority;

  @ApiProperty(DOMAIN_PROPERTY)
  @IsKanbanDomain()
  domain!: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, description: 'Required for type interval, refused for cron' })
  @TimingField('intervalMs', 'interval', (value) => (Number.isSafeInteger(value) && (value as number) >= 1 ? undefined : 'must be a positive integer'))
  intervalMs?: number;

  /** Six fields with seconds, or five; the library checks the expression itself. */
  @ApiPropertyOptional({ minLength: 1, description: 'Required for type cron, refused for interval; six fields with seconds, or five' })
  @TimingField('cron', 'cron', (value) => (typeof value === 'string' && value.trim() !== '' ? undefined : 'must be a cron expression'))
  cron?: string;

  /** Each published item's deadline, counted from its tick. */
  @ApiProperty({ type: 'integer', minimum: 1, description: "Each published item's deadline, counted from its tick, ms" })
  @IsInt({ message: 'must be a positive integer number of ms' })
  @Min(1, { message: 'must be a positive integer number of ms' })
  deadlineMs!: number;

  /** @default null */
  @ApiPropertyOptional({ ...ANY_JSON_VALUE, default: null })
  @JsonValue({ required: false })
  payload?: unknown;

  /** Stable jobId; instances creating the same name publish each tick once between them. */
  @ApiPropertyOptional({ pattern: SCHEDULE_NAME.source, description: 'Stable jobId' })
  @IsOptional()
  @Matches(SCHEDULE_NAME, { message: `must match ${SCHEDULE_NAME.source}` })
  name?: string;

  /** What a tick does while the queue is above the high watermark. @default 'skip' */
  @ApiPropertyOptional({ enum: BUSY_BEHAVIORS, default: 'skip' })
  @IsOptional()
  @IsIn(BUSY_BEHAVIORS, { message: `must be one of ${BUSY_BEHAVIORS.join(', ')}` })
  whenBusy?: BusyBehavior;

  /** Ticks missed while no instance could fire: skip them, publish the latest, or publish each. @default 'none' */
  @ApiPropertyOptional({ enum: CATCH_UP_POLICIES, default: 'none' })
  @IsOptional()
  @IsIn(CATCH_UP_POLICIES, { message: `must be one of ${CATCH_UP_POLICIES.join(', ')}` })
  catchUp?: CatchUpPolicy;
}
