import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { KANBAN_TRANSPORT } from '../kanban.constants';
import { KanbanMetrics } from '../metrics/kanban-metrics';
import { KanbanTransport } from './kanban-transport';

/** Connects the transport at start-up, reports its active broker, and closes it last at shutdown. */
@Injectable()
export class TransportLifecycle implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('KanbanTransport');
  private subscription?: Subscription;

  constructor(
    @Inject(KANBAN_TRANSPORT) private readonly transport: KanbanTransport,
    private readonly metrics: KanbanMetrics,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.transport.connect();
    let previous = '';
    this.subscription = this.transport.status$.subscribe((status) => {
      this.metrics.setActiveBroker(status.active);
      const line = `${status.state}/${status.active}`;
      if (line !== previous) this.logger.log(`Transport ${this.transport.broker}: state=${status.state} active=${status.active}${status.detail ? ` (${status.detail})` : ''}`);
      previous = line;
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.subscription?.unsubscribe();
    await this.transport.close();
  }
}
