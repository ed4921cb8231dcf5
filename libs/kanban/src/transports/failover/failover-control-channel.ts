import { RelayUnansweredError } from '../../errors';
import type { ControlChannel, ControlHandler } from '../../transport/control-channel.interface';

/**
 * Relayed settles over both brokers: this instance listens on each, and a request goes out on the
 * primary first and on the next only when the broker said nobody received it (no listener there,
 * or that broker is down). A request that may have reached the holder is never sent twice.
 */
export class FailoverControlChannel implements ControlChannel {
  constructor(private readonly channels: readonly ControlChannel[]) {}

  serve(holder: string, handler: ControlHandler): void {
    for (const channel of this.channels) channel.serve(holder, handler);
  }

  async request(holder: string, request: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const misses: string[] = [];
    for (const channel of this.channels) {
      try {
        return await channel.request(holder, request, timeoutMs);
      } catch (error) {
        if (!(error instanceof RelayUnansweredError) || error.mayHaveArrived) throw error;
        misses.push(error.message);
      }
    }
    throw new RelayUnansweredError(holder, false, misses.join('; '));
  }
}
