import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { KANBAN_TRANSPORT } from '../kanban.constants';
import { LeaseExpiredError, RelayUnansweredError } from '../errors';
import { KanbanTransport } from '../transport/kanban-transport';
import { RELAY_ANSWER_TIMEOUT_MS } from './relay.constants';
import { decodeAnswer, decodeSettle, encodeAnswer, encodeSettle, type RelayedSettle } from './relayed-settle';

/**
 * Any instance settles any lease: this instance's id goes into every lease it hands out, and a
 * settle of a lease held elsewhere travels over the transport's control channel to its holder,
 * which settles it as if it had been called there and sends back the result or the typed error.
 * The holder's transport is the only fence. A holder that is gone, or that does not answer within
 * RELAY_ANSWER_TIMEOUT_MS, makes the settle a LeaseExpiredError: the item comes back after its lease.
 */
@Injectable()
export class SettleRelay implements OnApplicationBootstrap {
  private readonly logger = new Logger(SettleRelay.name);
  /** This instance's id: 32 hex digits, a NATS subject token and part of a RabbitMQ queue name. */
  readonly holder = randomBytes(16).toString('hex');
  private settleHere?: (settle: RelayedSettle) => Promise<unknown>;

  constructor(@Inject(KANBAN_TRANSPORT) private readonly transport: KanbanTransport) {}

  /** Registers what runs a settle addressed to this instance (the queue's own settle). */
  serve(settleHere: (settle: RelayedSettle) => Promise<unknown>): void {
    this.settleHere = settleHere;
  }

  /** Listens once the transport is connected (TransportLifecycle connects it at module init). */
  onApplicationBootstrap(): void {
    if (this.transport.controlChannel && this.settleHere) this.transport.controlChannel.serve(this.holder, (request) => this.answer(request));
  }

  /** True when the lease's delivery is held by another instance this one can reach; a transport without a control channel settles everything locally. */
  isElsewhere(holder: string): boolean {
    return holder !== this.holder && this.transport.controlChannel !== undefined;
  }

  /**
   * Runs the settle at the instance holding the lease and returns its result.
   * @throws the holder's error, rebuilt as the same typed error; LeaseExpiredError when the holder does not answer.
   */
  async forward<T>(holder: string, settle: RelayedSettle): Promise<T> {
    const channel = this.transport.controlChannel;
    if (!channel) throw new LeaseExpiredError(settle.id, settle.domain);
    let answer: Uint8Array;
    try {
      answer = await channel.request(holder, encodeSettle(settle), RELAY_ANSWER_TIMEOUT_MS);
    } catch (error) {
      if (!(error instanceof RelayUnansweredError)) throw error;
      this.logger.warn(`${settle.op} of item ${settle.id} refused as a lapsed lease: ${error.message}`);
      throw new LeaseExpiredError(settle.id, settle.domain);
    }
    return decodeAnswer<T>(answer, settle);
  }

  private async answer(request: Uint8Array): Promise<Uint8Array> {
    try {
      const settle = decodeSettle(request);
      if (!this.settleHere) throw new LeaseExpiredError(settle.id, settle.domain);
      return encodeAnswer({ value: await this.settleHere(settle) });
    } catch (error) {
      return encodeAnswer({ error });
    }
  }
}
