import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { KanbanScheduler, type CanaryResult, type ScheduleStatus } from '@tps/kanban';
import { CreateCanaryDto } from './dto/create-canary.dto';
import { CreateScheduleDto } from './dto/create-schedule.dto';

@Controller('schedules')
export class SchedulesController {
  constructor(private readonly scheduler: KanbanScheduler) {}

  /** 201 `{jobId}` once stored; 409 when a schedule with that name exists. */
  @Post()
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
  canary(@Body() dto: CreateCanaryDto): Promise<CanaryResult> {
    return this.scheduler.scheduleCanary(dto.domain, dto.payload ?? null);
  }

  @Get()
  list(): ScheduleStatus[] {
    return this.scheduler.list();
  }

  @Get(':jobId')
  get(@Param('jobId') jobId: string): ScheduleStatus {
    return this.scheduler.get(jobId);
  }

  @Delete(':jobId')
  @HttpCode(HttpStatus.NO_CONTENT)
  async cancel(@Param('jobId') jobId: string): Promise<void> {
    await this.scheduler.cancelSchedule(jobId);
  }
}
