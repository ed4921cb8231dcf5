import { Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ApiTokenRequired, DeadLetterPageSchema, DeadLetterSchema, ReplayReceiptSchema } from '../openapi';
import { KanbanQueue, type BrokerName, type DeadLetter, type DeadLetterPage } from '@tps/kanban';
import { RequiresToken } from '../auth';
import { searchDeadLetters } from './dead-letter-search';
import { ListDeadLettersQuery } from './dto/list-dead-letters.query';

/** The dead-letter queue: inspect, replay, purge. Payloads are sensitive, so reads need the token too. */
@ApiTags('dead-letters')
@Controller('dead-letters')
@RequiresToken()
@ApiTokenRequired()
export class DeadLettersController {
  constructor(private readonly queue: KanbanQueue) {}

  /**
   * 200 `{items, nextCursor?}`, oldest first; pass `nextCursor` back as `cursor` for the next page.
   * With `text`, a bounded scan (`scanned` says how many were read): a page may hold fewer matches
   * than `limit` and still have a `nextCursor`.
   */
  @Get()
  @ApiOperation({ summary: 'List dead letters, oldest first, a page at a time' })
  @ApiOkResponse({ type: DeadLetterPageSchema })
  @ApiErrors('validation_failed', 'broker_unavailable')
  list(@Query() query: ListDeadLettersQuery): Promise<DeadLetterPage> {
    const { text, ...filter } = query;
    return text === undefined ? this.queue.listDeadLetters(filter) : searchDeadLetters(this.queue, filter, text);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One dead letter, with its reason and error' })
  @ApiOkResponse({ type: DeadLetterSchema })
  @ApiErrors('dead_letter_not_found', 'broker_unavailable')
  get(@Param('id') id: string): Promise<DeadLetter> {
    return this.queue.getDeadLetter(id);
  }

  /** 201 `{id, broker}`: republished as a new item, attempts from 1; the dead letter is removed. */
  @Post(':id/replay')
  @ApiOperation({ summary: 'Republish as a new item (attempts from 1) and remove the dead letter' })
  @ApiCreatedResponse({ type: ReplayReceiptSchema })
  @ApiErrors('dead_letter_not_found', 'domain_limit_reached', 'queue_full', 'draining', 'broker_unavailable')
  async replay(@Param('id') id: string): Promise<{ id: string; broker: BrokerName }> {
    const { id: itemId, broker } = await this.queue.replayDeadLetter(id);
    return { id: itemId, broker };
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Purge a dead letter' })
  @ApiNoContentResponse({ description: 'Purged' })
  @ApiErrors('dead_letter_not_found', 'broker_unavailable')
  purge(@Param('id') id: string): Promise<void> {
    return this.queue.purgeDeadLetter(id);
  }
}
