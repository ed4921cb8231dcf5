import { Body, Controller, Headers, HttpCode, HttpStatus, Inject, Param, Post } from '@nestjs/common';
import { KANBAN_OPTIONS, KanbanQueue, transportSettingsFrom, type KanbanResolvedOptions, type PublishReceipt, type RetryOutcome } from '@tps/kanban';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AckAnswerSchema, ApiErrors, ApiTokenRequired, ExtendAnswerSchema, JSON_BODY_ERRORS, NackAnswerSchema, PublishReceiptSchema, PulledItemSchema, RetryAnswerSchema } from '../openapi';
import { ExtendLeaseDto, NackWorkDto, PublishWorkDto, PullWorkDto, RetryWorkDto, SettleWorkDto } from './dto';
import { PullCancellation } from './pull-cancellation';
import { toPulledItem, type PulledItem } from './pulled-item';
import { RequestAbortSignal } from './request-abort-signal.decorator';
import { withTraceContext } from './trace-context';

/** What settling a delivery can answer besides the body's own errors: a stale or forged lease, an item gone, no broker. */
const SETTLE_ERRORS = [...JSON_BODY_ERRORS, 'lease_expired', 'item_not_found', 'broker_unavailable'];

/** Producers publish, and workers in any language pull and settle, over HTTP. */
@ApiTags('work')
@ApiTokenRequired()
@Controller('work')
export class WorkController {
  /** What an extend without `leaseMs` grants: the same lease a pull hands out. */
  private readonly defaultLeaseMs: number;

  constructor(
    private readonly queue: KanbanQueue,
    private readonly cancellation: PullCancellation,
    @Inject(KANBAN_OPTIONS) options: KanbanResolvedOptions,
  ) {
    this.defaultLeaseMs = transportSettingsFrom(options).leaseMs;
  }

  /**
   * 201 `{id, broker, duplicate}` once a broker durably holds the item. The request's W3C
   * `traceparent`/`tracestate` headers become the item's unless its body `headers` carry their own.
   */
  @Post()
  @ApiOperation({ summary: 'Publish an item', description: 'Answers once a broker durably holds the item.' })
  @ApiCreatedResponse({ type: PublishReceiptSchema })
  @ApiErrors(...JSON_BODY_ERRORS, 'domain_limit_reached', 'queue_full', 'draining', 'broker_unavailable')
  publish(@Body() dto: PublishWorkDto, @Headers('traceparent') traceparent?: string, @Headers('tracestate') tracestate?: string): Promise<PublishReceipt> {
    return this.queue.publish({ ...dto, headers: withTraceContext(dto.headers, traceparent, tracestate) });
  }

  @Post('pull')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Pull items', description: 'A whole domain (high before normal before low) or one priority of it; waits up to waitMs for a first item.' })
  @ApiOkResponse({ type: [PulledItemSchema] })
  @ApiErrors(...JSON_BODY_ERRORS, 'broker_unavailable')
  async pull(@Body() dto: PullWorkDto, @RequestAbortSignal() aborted: AbortSignal): Promise<PulledItem[]> {
    const deliveries = await this.queue.pull({ ...dto, signal: this.cancellation.signalFor(aborted) });
    return deliveries.map(toPulledItem);
  }

  @Post(':id/ack')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Ack: the item is done and removed' })
  @ApiOkResponse({ type: AckAnswerSchema })
  @ApiErrors(...SETTLE_ERRORS)
  async ack(@Param('id') id: string, @Body() dto: SettleWorkDto): Promise<{ id: string; status: 'acked' }> {
    await this.queue.ack(id, dto.domain, dto.lease);
    return { id, status: 'acked' };
  }

  /** Dead-letters the item with reason `nack` and the worker's reason. */
  @Post(':id/nack')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Nack: dead-letter the item with reason nack' })
  @ApiOkResponse({ type: NackAnswerSchema })
  @ApiErrors(...SETTLE_ERRORS)
  async nack(@Param('id') id: string, @Body() dto: NackWorkDto): Promise<{ id: string; status: 'dead_lettered' }> {
    await this.queue.nack(id, dto.domain, dto.lease, dto.reason);
    return { id, status: 'dead_lettered' };
  }

  /** Hands the item back for another attempt after delayMs, or dead-letters it as `max_attempts` with `error` when this was its last attempt. */
  @Post(':id/retry')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Retry: hand the item back for another attempt, or dead-letter it as max_attempts after the last' })
  @ApiOkResponse({ type: RetryAnswerSchema })
  @ApiErrors(...SETTLE_ERRORS)
  async retry(@Param('id') id: string, @Body() dto: RetryWorkDto): Promise<{ id: string; status: RetryOutcome['status'] }> {
    const outcome = await this.queue.retry(id, dto.domain, dto.lease, dto.delayMs ?? 0, dto.error);
    return { id, status: outcome.status };
  }

  /** Keeps a long job's lease alive, as JetStream's `working`; `leaseExpiresAt` is from the lease the broker granted, which may be shorter than asked (NATS caps it at the consumer's ack wait). */
  @Post(':id/extend')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: "Extend the item's lease" })
  @ApiOkResponse({ type: ExtendAnswerSchema })
  @ApiErrors(...SETTLE_ERRORS)
  async extend(@Param('id') id: string, @Body() dto: ExtendLeaseDto): Promise<{ id: string; status: 'extended'; leaseExpiresAt: number }> {
    const leaseExpiresAt = await this.queue.extendLease(id, dto.domain, dto.lease, dto.leaseMs ?? this.defaultLeaseMs);
    return { id, status: 'extended', leaseExpiresAt };
  }
}
