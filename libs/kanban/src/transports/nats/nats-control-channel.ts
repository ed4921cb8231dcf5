import { Logger } from '@nestjs/common';
import { createInbox, errors as natsErrors, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { RelayUnansweredError } from '../../errors';
import type { ControlChannel, ControlHandler } from '../../transport/control-channel.interface';
import { findCause } from './nats-errors';
import type { NatsNames } from './nats-names';

/**
 * Relayed settles over core NATS request/reply: each instance subscribes to its own subject
 * (`{prefix}.relay.{holder}`); a request carries a reply subject under `{prefix}.relay-reply`, so
 * a user limited to the prefix's subjects can both ask and answer. The server says at once when no
 * instance listens (no responders). nats.js subscribes again after a reconnect.
 */
export class NatsControlChannel implements ControlChannel {
  private served?: { holder: string; handler: ControlHandler };
  private subscription?: Subscription;

  constructor(
    private readonly names: NatsNames,
    /** The open connection, or undefined while there is none (not connected, disconnected, closed). */
    private readonly connection: () => NatsConnection | undefined,
    private readonly logger: Logger,
  ) {}

  serve(holder: string, handler: ControlHandler): void {
    this.served = { holder, handler };
    const nc = this.connection();
    if (nc) this.attach(nc);
  }

  /** Subscribes on a new connection (the transport calls it when one opens). */
  attach(nc: NatsConnection): void {
    if (!this.served || this.subscription) return;
    const { holder, handler } = this.served;
    this.subscription = nc.subscribe(this.names.relaySubject(holder), {
      callback: (error, message) => {
        if (error) {
          this.logger.warn(`Relay subscription ended: ${error.message}`);
          return;
        }
        void handler(message.data).then((answer) => {
          if (!message.respond(answer)) this.logger.warn(`A relayed settle carried no reply subject; its answer was dropped`);
        }).catch((failure: unknown) => this.logger.warn(`Answering a relayed settle failed: ${(failure as Error).message}`));
      },
    });
  }

  /** Forgets the subscription of a closed connection. */
  detach(): void {
    this.subscription = undefined;
  }

  async request(holder: string, request: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const nc = this.connection();
    if (!nc) throw new RelayUnansweredError(holder, false, 'not connected to NATS');
    try {
      const answer = await nc.request(this.names.relaySubject(holder), request, { timeout: timeoutMs, noMux: true, reply: createInbox(this.names.relayReplyRoot) });
      return answer.data;
    } catch (error) {
      if (findCause(error, natsErrors.NoRespondersError)) throw new RelayUnansweredError(holder, false, 'no instance listens as it on NATS');
      if (findCause(error, natsErrors.TimeoutError)) throw new RelayUnansweredError(holder, true, `no answer on NATS within ${timeoutMs} ms`);
      throw new RelayUnansweredError(holder, true, `NATS request failed: ${(error as Error).message}`);
    }
  }
}
