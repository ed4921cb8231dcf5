import type { Logger } from '@nestjs/common';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { NATS_API_TIMEOUT_MS, NATS_CONSUMER_ALIGN_ATTEMPTS, NATS_LEADER_POLL_MS } from './nats.constants';
import { brokerError } from './nats-errors';

/**
 * Moves a replicated work consumer's leadership to the node leading its stream.
 *
 * nats-server 2.9 (the raft fixes of 2.11, nats-server#5987, address it) keeps, on a stream leader
 * cut off from both followers, the publishes it never acknowledged. When the restarted majority
 * elects another leader and acknowledges other items at the same stream sequences, the old leader
 * keeps its own copies there. A consumer led from that node delivers its copies, and their acks
 * delete the acknowledged items on every replica: acknowledged items are lost unseen. The node
 * leading the stream holds what it acknowledged, so a consumer led from it delivers those.
 */
export class NatsConsumerAlignment {
  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly logger: Logger,
  ) {}

  /**
   * Asks the consumer's leader to step down until the stream's leader leads it (another replica
   * takes over at random), at most NATS_CONSUMER_ALIGN_ATTEMPTS times. Best effort: when that does
   * not work out, or JetStream does not answer, it logs a warning and the queue is used as it is,
   * because failing the declaration would fail publishes over to the fallback broker for it.
   */
  async align(stream: string, consumer: string, streamLeader: string | undefined, consumerLeader: string | undefined): Promise<void> {
    if (!streamLeader || !consumerLeader || streamLeader === consumerLeader) return;
    const from = consumerLeader;
    let current: string | undefined = consumerLeader;
    try {
      for (let attempt = 1; attempt <= NATS_CONSUMER_ALIGN_ATTEMPTS; attempt++) {
        await this.nc.request(`$JS.API.CONSUMER.LEADER.STEPDOWN.${stream}.${consumer}`, undefined, { timeout: NATS_API_TIMEOUT_MS });
        current = await this.nextLeader(stream, consumer, current);
        streamLeader = (await this.jsm.streams.info(stream)).cluster?.leader ?? streamLeader;
        if (current === streamLeader) {
          this.logger.log(`consumer ${stream}/${consumer} moved from ${from} to ${current}, the stream's leader`);
          return;
        }
      }
    } catch (error) {
      this.logger.warn(`${brokerError(error, `moving the leader of consumer ${stream}/${consumer} from ${current} to ${streamLeader}`).message}; pulling from it as it is`);
      return;
    }
    this.logger.warn(`consumer ${stream}/${consumer} is led by ${current}, its stream by ${streamLeader}, after ${NATS_CONSUMER_ALIGN_ATTEMPTS} step-downs; pulling from it as it is`);
  }

  /** The leader elected after `previous` stepped down (a step-down leaves the consumer leaderless for a moment). */
  private async nextLeader(stream: string, consumer: string, previous: string | undefined): Promise<string | undefined> {
    const deadline = Date.now() + NATS_API_TIMEOUT_MS;
    for (;;) {
      const leader = await this.jsm.consumers
        .info(stream, consumer)
        .then((info) => info.cluster?.leader)
        .catch(() => undefined);
      if ((leader && leader !== previous) || Date.now() >= deadline) return leader;
      await new Promise((resolve) => setTimeout(resolve, NATS_LEADER_POLL_MS));
    }
  }
}
