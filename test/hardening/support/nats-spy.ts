import { connect, type NatsConnection } from '@nats-io/transport-node';
import { waitFor } from '../../harness';

export interface SpiedMessage {
  subject: string;
  reply?: string;
  text: string;
}

/**
 * A core NATS subscription to `>`: sees every message published in the account (JetStream API
 * calls, publishes, acks), as a subject-injection would show up on the wire.
 */
export class NatsSpy {
  readonly messages: SpiedMessage[] = [];

  private constructor(private readonly nc: NatsConnection) {}

  static async on(url: string): Promise<NatsSpy> {
    const nc = await connect({ servers: url, name: 'hardening-spy' });
    const spy = new NatsSpy(nc);
    nc.subscribe('>', {
      callback: (_error, message) => {
        spy.messages.push({ subject: message.subject, ...(message.reply ? { reply: message.reply } : {}), text: new TextDecoder().decode(message.data) });
      },
    });
    await nc.flush();
    return spy;
  }

  /** Position to read from after an action. */
  mark(): number {
    return this.messages.length;
  }

  /**
   * Messages seen since `mark` and before the first one on `sentinelSubject` carrying `sentinelText`.
   * The sentinel is published by the same client after the action under test; NATS keeps one
   * client's messages in order, so once it arrives everything that client sent before it has too.
   */
  async before(mark: number, sentinelSubject: string, sentinelText: string): Promise<SpiedMessage[]> {
    const at = await waitFor(
      () => {
        const index = this.messages.findIndex((m, i) => i >= mark && m.subject === sentinelSubject && m.text.includes(sentinelText));
        return index >= 0 ? index + 1 : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 10, description: `the sentinel on ${sentinelSubject}` },
    );
    const sentinel = this.messages[at - 1];
    // The server's PubAck to the sentinel reaches the spy after the sentinel itself: wait for it too,
    // so that it does not show up after the next mark as if the next action had sent it.
    if (sentinel.reply) {
      const reply = sentinel.reply;
      await waitFor(() => this.messages.some((m, i) => i >= at && m.subject === reply), {
        timeoutMs: 5_000,
        intervalMs: 10,
        description: `the PubAck of the sentinel on ${reply}`,
      });
    }
    return this.messages.slice(mark, at - 1);
  }

  async close(): Promise<void> {
    await this.nc.close();
  }
}
