import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ApiTokenRequired, CanaryResultSchema, JSON_BODY_ERRORS, ScheduleCreatedSchema, ScheduleStatusSchema } from '../openapi';
import { KanbanScheduler, type CanaryResult, type ScheduleStatus } from '@tps/kanban';
import { CreateCanaryDto } from './dto/create-canary.dto';
import { CreateScheduleDto } from './dto/create-schedule.dto';

@ApiTags('schedules')
@Controller('schedules')
export class SchedulesController {
  constructor(private readonly scheduler: KanbanScheduler) {}

  /** 201 `{jobId}` once stored; 409 when a schedule with that name exists. */
  @Post()
  @ApiOperation({ summary: 'Publish on an interval or a cron expression' })
  @ApiCreatedResponse({ type: ScheduleCreatedSchema })
  @ApiTokenRequired()
  @ApiErrors(...JSON_BODY_ERRORS, 'schedule_conflict', 'broker_unavailable')
  async create(@Body() dto: CreateScheduleDto): Promise<{ jobId: string }> {
    const options = { name: dto.name, whenBusy: dto.whenBusy, catchUp: dto.catchUp };
    const payload = dto.payload ?? null;
    const jobId = await (dto.type === 'interval'
      ? this.scheduler.schedulePeriodic(dto.priority, dto.domain, dto.intervalMs as number, dto.deadlineMs, payload, options)
      : this.scheduler.scheduleCron(dto.priority, dto.domain, dto.cron as string, dto.deadlineMs, payload, options));
    return { jobId };
  }

  /** 201 with the canary's jobId, item id and status `pending`. */
  @Post('canary')
  @ApiOperation({ summary: "Publish a high-priority canary whose outcome shows in the coordinator's health" })
  @ApiCreatedResponse({ type: CanaryResultSchema })
  @ApiTokenRequired()
  @ApiErrors(...JSON_BODY_ERRORS, 'domain_limit_reached', 'queue_full', 'draining', 'broker_unavailable')
  canary(@Body() dto: CreateCanaryDto): Promise<CanaryResult> {
    return this.scheduler.scheduleCanary(dto.domain, dto.payload ?? null);
  }

  @Get()
  @ApiOperation({ summary: 'Every schedule, with what this instance saw of its ticks' })
  @ApiOkResponse({ type: [ScheduleStatusSchema] })
  @ApiErrors()
  list(): ScheduleStatus[] {
    return this.scheduler.list();
  }

  @Get(':jobId')
  @ApiOperation({ summary: 'One schedule' })
  @ApiOkResponse({ type: ScheduleStatusSchema })
  @ApiErrors('schedule_not_found')
  get(@Param('jobId') jobId: string): ScheduleStatus {
    return this.scheduler.get(jobId);
  }

  @Delete(':jobId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Cancel a schedule' })
  @ApiNoContentResponse({ description: 'Cancelled' })
  @ApiTokenRequired()
  @ApiErrors('schedule_not_found', 'broker_unavailable')
  async cancel(@Param('jobId') jobId: string): Promise<void> {
    await this.scheduler.cancelSchedule(jobId);
  }
}
