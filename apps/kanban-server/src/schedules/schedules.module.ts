import { Module } from '@nestjs/common';
import { SchedulesController } from './schedules.controller';

/** `/schedules`: periodic and cron publishing, canaries. */
@Module({ controllers: [SchedulesController] })
export class SchedulesModule {}
