import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { CoordinatorHealthSchema, TRANSPORT_STATES, TransportStatusSchema } from './coordinator-health.schema';
import { BROKER_NAME } from './json-value.schema';
import { QueueDepthSchema } from './queues.schema';

const ACCESS_ROLES = ['operator', 'read_only'];

@ApiSchema({ name: 'DashboardRole', description: 'Sent with the HttpOnly session cookie and the script-readable CSRF cookie.' })
export class DashboardRoleSchema {
  @ApiProperty({ enum: ACCESS_ROLES, enumName: 'AccessRole' })
  role!: string;
}

@ApiSchema({ name: 'DashboardSession' })
export class DashboardSessionSchema extends DashboardRoleSchema {
  @ApiProperty({ description: 'Whether the server has a token at all (without one it serves loopback only)' })
  authRequired!: boolean;
}

@ApiSchema({ name: 'DashboardQueue' })
export class DashboardQueueSchema extends QueueDepthSchema {
  @ApiProperty({ description: 'Acks per minute over the last minute, seen by this instance' })
  ackedPerMinute!: number;
}

@ApiSchema({ name: 'DepthPoint' })
export class DepthPointSchema {
  @ApiProperty({ type: 'integer', description: 'Epoch ms of the sample' })
  at!: number;

  @ApiProperty({ type: 'integer' })
  ready!: number;

  @ApiProperty({ type: 'integer' })
  inFlight!: number;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, description: 'Ready items per `{priority}:{domain}` across brokers' })
  byQueue!: Record<string, number>;
}

@ApiSchema({ name: 'WorkerStatus' })
export class WorkerStatusSchema {
  @ApiProperty()
  id!: string;

  @ApiProperty()
  domain!: string;

  @ApiPropertyOptional()
  priority?: string;

  @ApiProperty({ example: 'running', description: 'running, stopping, stopped, or its breaker state' })
  state!: string;

  @ApiProperty({ type: 'integer' })
  inFlight!: number;

  @ApiProperty({ type: 'integer' })
  processed!: number;

  @ApiProperty({ type: 'integer' })
  failed!: number;

  @ApiProperty({ type: 'integer' })
  consecutiveFailures!: number;
}

@ApiSchema({ name: 'BrokerChange' })
export class BrokerChangeSchema {
  @ApiProperty({ type: 'integer', description: 'Epoch ms' })
  at!: number;

  @ApiProperty({ enum: TRANSPORT_STATES, enumName: 'TransportState' })
  state!: string;

  @ApiProperty(BROKER_NAME)
  active!: string;
}

@ApiSchema({ name: 'DashboardOverview', description: "Everything the dashboard's overview shows, as this instance saw it." })
export class DashboardOverviewSchema {
  @ApiProperty({ type: [DashboardQueueSchema] })
  queues!: DashboardQueueSchema[];

  @ApiProperty({ type: 'integer', nullable: true, description: "Epoch ms of the coordinator's last depth sample; null before the first" })
  sampledAt!: number | null;

  @ApiProperty({ type: [DepthPointSchema], description: 'The last ten minutes' })
  depthHistory!: DepthPointSchema[];

  @ApiProperty({ type: [WorkerStatusSchema] })
  workers!: WorkerStatusSchema[];

  @ApiProperty({ type: CoordinatorHealthSchema })
  coordinator!: CoordinatorHealthSchema;

  @ApiProperty({ type: TransportStatusSchema })
  broker!: TransportStatusSchema;

  @ApiProperty({ type: [BrokerChangeSchema], description: 'The last 50 changes of broker state' })
  brokerHistory!: BrokerChangeSchema[];
}
