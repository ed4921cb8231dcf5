import { Module } from '@nestjs/common';
import { QueuesController } from './queues.controller';

/** `/queues`: depth per broker, priority and domain, as the coordinator last sampled it. */
@Module({ controllers: [QueuesController] })
export class QueuesModule {}
