import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { KANBAN_TRANSPORT } from '../kanban.constants';
import { KanbanMetrics } from '../metrics/kanban-metrics';
import { KanbanTransport } from './kanban-transport';

/** Connects the transport at start-up, reports its active broker and its switches, and closes it last at shutdown. */
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
    let lastActive: string | undefined;
    this.subscription = this.transport.status$.subscribe((status) => {
      this.metrics.setActiveBroker(status.active);
      // A switch is between two places that take publishes: start-up, close and a moment with nowhere to publish are not.
      if (status.active !== 'none') {
        if (lastActive !== undefined && lastActive !== status.active) this.metrics.failovers.inc({ from: lastActive, to: status.active });
        lastActive = status.active;
      }
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
