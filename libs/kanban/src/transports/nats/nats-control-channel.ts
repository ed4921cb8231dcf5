import { Logger } from '@nestjs/common';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { createInbox, errors as natsErrors } from './nats-client';
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
  /** The transport's connection, connected or reconnecting: a subscription made while it reconnects is sent once it is back. */
  private nc?: NatsConnection;
  private subscription?: Subscription;

  constructor(
    private readonly names: NatsNames,
    /** The connection while requests can go out on it, else undefined (not connected, disconnected, closed). */
    private readonly liveConnection: () => NatsConnection | undefined,
    private readonly logger: Logger,
  ) {}

  serve(holder: string, handler: ControlHandler): void {
    this.served = { holder, handler };
    this.subscribe();
  }

  /** The transport opened its connection. */
  attach(nc: NatsConnection): void {
    this.nc = nc;
    this.subscribe();
  }

  /** The transport closed its connection. */
  detach(): void {
    this.nc = undefined;
    this.subscription = undefined;
  }

  private subscribe(): void {
    if (!this.served || !this.nc || this.subscription) return;
    const { holder, handler } = this.served;
    this.subscription = this.nc.subscribe(this.names.relaySubject(holder), {
      callback: (error, message) => {
        if (error) {
          this.logger.warn(`Relay subscription ended: ${error.message}`);
          return;
        }
        void handler(message.data)
          .then((answer) => {
            if (!message.respond(answer)) this.logger.warn(`A relayed settle carried no reply subject; its answer was dropped`);
          })
          .catch((failure: unknown) => this.logger.warn(`Answering a relayed settle failed: ${(failure as Error).message}`));
      },
    });
  }

  async request(holder: string, request: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const nc = this.liveConnection();
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
