import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { KANBAN_TRANSPORT } from '../kanban.constants';
import { KanbanTransport } from '../transport/kanban-transport';
import { degradedResult } from './degraded-result';

/** Reports the transport's last known state; opens no connection. */
@Injectable()
export class TransportHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    @Inject(KANBAN_TRANSPORT) private readonly transport: KanbanTransport,
  ) {}

  check(key = 'broker'): HealthIndicatorResult {
    const session = this.health.check(key);
    const { state, active, detail } = this.transport.currentStatus;
    const data = { broker: this.transport.broker, active, state, ...(detail ? { detail } : {}) };
    if (state === 'up') return session.up(data);
    if (state === 'degraded') return degradedResult(session, data);
    return session.down(data);
  }
}
