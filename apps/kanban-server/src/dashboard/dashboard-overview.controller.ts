import { Controller, Get, Inject } from '@nestjs/common';
import { KANBAN_TRANSPORT, KanbanCoordinator, KanbanTransport, KanbanWorkerPool, type CoordinatorHealth, type QueueDepth, type TransportStatus, type WorkerStatus } from '@tps/kanban';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequiresToken } from '../auth';
import { ApiErrors, ApiTokenRequired, DashboardOverviewSchema } from '../openapi';
import { QueueActivityRecorder, queueKey, type BrokerChange, type DepthPoint } from './queue-activity.recorder';

export interface QueueRow extends QueueDepth {
  /** Acks per minute over the last minute, seen by this instance. */
  ackedPerMinute: number;
}

export interface DashboardOverview {
  queues: QueueRow[];
  /** When the coordinator last read the brokers (epoch ms); null before its first sample. */
  sampledAt: number | null;
  depthHistory: readonly DepthPoint[];
  workers: WorkerStatus[];
  coordinator: CoordinatorHealth;
  broker: TransportStatus;
  brokerHistory: readonly BrokerChange[];
}

/** `GET /dashboard/api/overview`: everything the page's overview shows, in one read, without a broker call. */
@ApiTags('dashboard')
@Controller('dashboard/api')
@RequiresToken()
@ApiTokenRequired()
export class DashboardOverviewController {
  constructor(
    private readonly coordinator: KanbanCoordinator,
    private readonly pool: KanbanWorkerPool,
    private readonly activity: QueueActivityRecorder,
    @Inject(KANBAN_TRANSPORT) private readonly transport: KanbanTransport,
  ) {}

  @Get('overview')
  @ApiOperation({ summary: "Everything the dashboard's overview shows, in one read without a broker call" })
  @ApiOkResponse({ type: DashboardOverviewSchema })
  @ApiErrors()
  overview(): DashboardOverview {
    const now = Date.now();
    return {
      queues: this.coordinator.lastDepth.map((queue) => ({ ...queue, ackedPerMinute: this.activity.ackedPerMinute(queueKey(queue.priority, queue.domain), now) })),
      sampledAt: this.coordinator.lastDepthAt ?? null,
      depthHistory: this.activity.depthHistory,
      workers: this.pool.status(),
      coordinator: this.coordinator.getHealth(),
      broker: this.transport.currentStatus,
      brokerHistory: this.activity.brokerHistory,
    };
  }
}
