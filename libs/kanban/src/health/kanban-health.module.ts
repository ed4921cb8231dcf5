import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CoordinatorModule } from '../coordinator/coordinator.module';
import { QueueModule } from '../queue/queue.module';
import { WorkerModule } from '../worker/worker.module';
import { QueueHealthIndicator } from './queue.health';
import { TransportHealthIndicator } from './transport.health';
import { WorkersHealthIndicator } from './workers.health';

/**
 * Terminus indicators for the broker, the queue and the workers. Needs KanbanCoreModule; brings
 * QueueModule, WorkerModule and CoordinatorModule (the queue indicator reads its depth samples).
 */
@Module({
  imports: [TerminusModule, QueueModule, WorkerModule, CoordinatorModule],
  providers: [TransportHealthIndicator, QueueHealthIndicator, WorkersHealthIndicator],
  exports: [TerminusModule, TransportHealthIndicator, QueueHealthIndicator, WorkersHealthIndicator],
})
export class KanbanHealthModule {}
