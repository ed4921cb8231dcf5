import { Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { KanbanQueue, type BrokerName, type DeadLetter, type DeadLetterPage } from '@tps/kanban';
import { RequiresToken } from '../auth';
import { searchDeadLetters } from './dead-letter-search';
import { ListDeadLettersQuery } from './dto/list-dead-letters.query';

/** The dead-letter queue: inspect, replay, purge. Payloads are sensitive, so reads need the token too. */
@Controller('dead-letters')
@RequiresToken()
export class DeadLettersController {
  constructor(private readonly queue: KanbanQueue) {}

  /**
   * 200 `{items, nextCursor?}`, oldest first; pass `nextCursor` back as `cursor` for the next page.
   * With `text`, a bounded scan (`scanned` says how many were read): a page may hold fewer matches
   * than `limit` and still have a `nextCursor`.
   */
  @Get()
  list(@Query() query: ListDeadLettersQuery): Promise<DeadLetterPage> {
    const { text, ...filter } = query;
    return text === undefined ? this.queue.listDeadLetters(filter) : searchDeadLetters(this.queue, filter, text);
  }

  @Get(':id')
  get(@Param('id') id: string): Promise<DeadLetter> {
    return this.queue.getDeadLetter(id);
  }

  /** 201 `{id, broker}`: republished as a new item, attempts from 1; the dead letter is removed. */
  @Post(':id/replay')
  async replay(@Param('id') id: string): Promise<{ id: string; broker: BrokerName }> {
    const { id: itemId, broker } = await this.queue.replayDeadLetter(id);
    return { id: itemId, broker };
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  purge(@Param('id') id: string): Promise<void> {
    return this.queue.purgeDeadLetter(id);
  }
}
