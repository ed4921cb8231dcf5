import { Controller, Get } from '@nestjs/common';
import { KanbanQueue, type QueueDepth } from '@tps/kanban';

export interface QueuesView {
  /** Items waiting across every queue (retry backoffs included). */
  ready: number;
  /** Items delivered and not yet settled, across every queue. */
  inFlight: number;
  /** One entry per (broker, priority, domain). */
  queues: QueueDepth[];
}

@Controller('queues')
export class QueuesController {
  constructor(private readonly queue: KanbanQueue) {}

  @Get()
  async list(): Promise<QueuesView> {
    const queues = await this.queue.depth();
    return {
      ready: queues.reduce((n, q) => n + q.ready, 0),
      inFlight: queues.reduce((n, q) => n + q.inFlight, 0),
      queues,
    };
  }
}
