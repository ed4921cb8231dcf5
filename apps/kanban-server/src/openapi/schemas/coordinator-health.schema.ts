import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { BROKER_NAME } from './json-value.schema';

export const TRANSPORT_STATES = ['connecting', 'up', 'degraded', 'down', 'closed'];

@ApiSchema({ name: 'BrokerStatus' })
export class BrokerStatusSchema {
  @ApiProperty(BROKER_NAME)
  active!: string;

  @ApiProperty({ enum: TRANSPORT_STATES, enumName: 'TransportState' })
  state!: string;
}

@ApiSchema({ name: 'TransportStatus', description: "The transport's own status, with its short human detail" })
export class TransportStatusSchema extends BrokerStatusSchema {
  @ApiPropertyOptional({ description: 'Why the transport is in this state, or what it runs on (never credentials)', example: 'JetStream on nats://127.0.0.1:4222' })
  detail?: string;
}

@ApiSchema({ name: 'CanaryResult' })
export class CanaryResultSchema {
  @ApiProperty()
  jobId!: string;

  @ApiProperty()
  itemId!: string;

  @ApiProperty()
  domain!: string;

  @ApiProperty(BROKER_NAME)
  broker!: string;

  @ApiProperty({ type: 'integer', description: 'Epoch ms' })
  publishedAt!: number;

  @ApiProperty({ enum: ['pending', 'acked', 'dead_lettered'] })
  status!: string;

  @ApiPropertyOptional({ type: 'integer', description: 'Publish to settle, once settled' })
  latencyMs?: number;

  @ApiPropertyOptional()
  error?: string;
}

@ApiSchema({ name: 'DepthSample' })
export class DepthSampleSchema {
  @ApiProperty({ type: 'integer' })
  depth!: number;

  @ApiProperty({ type: 'integer', description: 'Epoch ms' })
  at!: number;
}

@ApiSchema({ name: 'FleetInstance' })
export class FleetInstanceSchema {
  @ApiProperty()
  id!: string;

  @ApiProperty()
  host!: string;

  @ApiProperty({ type: 'integer' })
  pid!: number;

  @ApiProperty({ type: 'integer', description: 'Epoch ms' })
  started_at!: number;

  @ApiProperty({ type: 'integer' })
  current_workers!: number;

  @ApiProperty({ type: 'integer' })
  target_workers!: number;

  @ApiProperty()
  draining!: boolean;

  @ApiProperty({ type: BrokerStatusSchema })
  broker!: BrokerStatusSchema;

  @ApiProperty({ type: DepthSampleSchema, nullable: true, description: "Null before the instance's first sample" })
  last_sample!: DepthSampleSchema | null;

  @ApiProperty({ description: 'True while the instance runs the fleet’s stalled sweep' })
  sweep_leader!: boolean;

  @ApiProperty({ type: 'integer', description: 'Epoch ms of the announcement read' })
  announced_at!: number;
}

@ApiSchema({ name: 'FleetHealth' })
export class FleetHealthSchema {
  @ApiProperty({ type: [FleetInstanceSchema] })
  instances!: FleetInstanceSchema[];

  @ApiProperty({ type: 'string', nullable: true, description: 'Id of the instance that sweeps stalled items; null while none holds the lease' })
  sweep_leader!: string | null;

  @ApiProperty({ type: 'integer' })
  total_workers!: number;

  @ApiProperty({ type: 'integer', nullable: true, description: 'Null before the first sample' })
  depth!: number | null;
}

@ApiSchema({ name: 'CoordinatorHealth', description: "The spec's health shape, plus the broker, breakers, canaries and the fleet." })
export class CoordinatorHealthSchema {
  @ApiProperty({ type: 'integer' })
  current_workers!: number;

  @ApiProperty({ type: 'integer' })
  target_workers!: number;

  @ApiProperty({ type: 'array', items: { type: 'integer' }, maxItems: 10, description: 'Total depth, oldest first, the last 10 samples' })
  queue_depth_samples!: number[];

  @ApiProperty()
  queue_draining!: boolean;

  @ApiProperty({ type: 'integer', description: 'Epoch ms' })
  timestamp!: number;

  @ApiProperty({ type: BrokerStatusSchema })
  broker!: BrokerStatusSchema;

  @ApiProperty({ type: 'integer' })
  open_circuit_breakers!: number;

  @ApiProperty({ type: [CanaryResultSchema] })
  canaries!: CanaryResultSchema[];

  @ApiProperty({ type: FleetHealthSchema })
  fleet!: FleetHealthSchema;
}

@ApiSchema({ name: 'BreakersReset' })
export class BreakersResetSchema {
  @ApiProperty({ type: 'integer', description: 'Breakers that were open and are now closed' })
  closed!: number;
}
