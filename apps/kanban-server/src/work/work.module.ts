import { Module } from '@nestjs/common';
import { PullCancellation } from './pull-cancellation';
import { WorkController } from './work.controller';

/** `/work`: publish, pull, ack, nack, retry, extend. KanbanQueue comes from the global KanbanModule. */
@Module({
  controllers: [WorkController],
  providers: [PullCancellation],
})
export class WorkModule {}
