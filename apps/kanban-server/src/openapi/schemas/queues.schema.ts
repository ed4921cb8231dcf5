import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { PRIORITIES } from '@tps/kanban';
import { BROKER_NAME } from './json-value.schema';

@ApiSchema({ name: 'QueueDepth' })
export class QueueDepthSchema {
  @ApiProperty(BROKER_NAME)
  broker!: string;

  @ApiProperty({ enum: PRIORITIES, enumName: 'Priority' })
  priority!: string;

  @ApiProperty()
  domain!: string;

  @ApiProperty({ type: 'integer', description: 'Waiting to be pulled, retry backoffs included' })
  ready!: number;

  @ApiProperty({ type: 'integer', description: 'Delivered and not yet settled' })
  inFlight!: number;
}

@ApiSchema({ name: 'QueuesView', description: "The coordinator's latest depth sample." })
export class QueuesViewSchema {
  @ApiProperty({ type: 'integer' })
  ready!: number;

  @ApiProperty({ type: 'integer' })
  inFlight!: number;

  @ApiProperty({ type: [QueueDepthSchema], description: 'One entry per (broker, priority, domain)' })
  queues!: QueueDepthSchema[];

  @ApiProperty({ type: 'integer', nullable: true, description: 'Epoch ms of the sample; null before the first' })
  sampledAt!: number | null;

  @ApiProperty({ type: 'integer', nullable: true, description: 'Age of the sample in ms; null before the first' })
  sampleAgeMs!: number | null;
}
