import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { PRIORITIES } from '@tps/kanban';

@ApiSchema({ name: 'ScheduleCreated' })
export class ScheduleCreatedSchema {
  @ApiProperty()
  jobId!: string;
}

@ApiSchema({ name: 'ScheduleStatus', description: "A schedule's definition (less its payload) and what this instance saw of its ticks." })
export class ScheduleStatusSchema {
  @ApiProperty()
  jobId!: string;

  @ApiProperty({ enum: ['interval', 'cron'] })
  kind!: string;

  @ApiProperty({ enum: PRIORITIES, enumName: 'Priority' })
  priority!: string;

  @ApiProperty()
  domain!: string;

  @ApiPropertyOptional({ type: 'integer' })
  intervalMs?: number;

  @ApiPropertyOptional()
  cron?: string;

  @ApiProperty({ type: 'integer' })
  deadlineMs!: number;

  @ApiProperty({ enum: ['skip', 'stretch'] })
  whenBusy!: string;

  @ApiProperty({ enum: ['none', 'one', 'all'] })
  catchUp!: string;

  @ApiProperty({ type: 'integer' })
  ticks!: number;

  @ApiProperty({ type: 'integer' })
  published!: number;

  @ApiProperty({ type: 'integer' })
  skipped!: number;

  @ApiProperty({ type: 'integer' })
  failed!: number;

  @ApiProperty({ type: 'integer', description: 'Ticks fire every `stretch`-th interval while busy' })
  stretch!: number;

  @ApiPropertyOptional({ type: 'integer', description: 'Epoch ms of the last published tick' })
  lastPublishedAt?: number;
}
