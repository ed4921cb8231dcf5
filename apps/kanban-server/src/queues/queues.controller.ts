import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, QueuesViewSchema } from '../openapi';
import { KanbanCoordinator, type QueueDepth } from '@tps/kanban';

export interface QueuesView {
  /** Items waiting across every queue (retry backoffs included). */
  ready: number;
  /** Items delivered and not yet settled, across every queue. */
  inFlight: number;
  /** One entry per (broker, priority, domain). */
  queues: QueueDepth[];
  /** When the figures were read from the brokers (epoch ms); null before the first sample. */
  sampledAt: number | null;
  /** How old the figures are, in ms; null before the first sample. */
  sampleAgeMs: number | null;
}

/**
 * `GET /queues` answers without a token, so it serves the coordinator's latest depth sample (one
 * broker round per KANBAN_COORDINATOR_CHECK_INTERVAL_MS) instead of asking every broker per request.
 */
@ApiTags('queues')
@Controller('queues')
export class QueuesController {
  constructor(private readonly coordinator: KanbanCoordinator) {}

  @Get()
  @ApiOperation({ summary: 'Depth per broker, priority and domain, from the latest sample' })
  @ApiOkResponse({ type: QueuesViewSchema })
  @ApiErrors()
  list(): QueuesView {
    const queues = [...this.coordinator.lastDepth];
    const sampledAt = this.coordinator.lastDepthAt ?? null;
    return {
      ready: queues.reduce((n, q) => n + q.ready, 0),
      inFlight: queues.reduce((n, q) => n + q.inFlight, 0),
      queues,
      sampledAt,
      sampleAgeMs: sampledAt === null ? null : Math.max(0, Date.now() - sampledAt),
    };
  }
}
