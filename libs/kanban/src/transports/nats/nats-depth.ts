import type { Logger } from '@nestjs/common';
import type { ConsumerInfo, JetStreamManager } from '@nats-io/jetstream';
import type { QueueDepth } from '../../interfaces/queue-depth.interface';
import type { Priority } from '../../interfaces/work-item.interface';
import { SUBJECT_PREFIX } from '../../kanban.constants';
import { NATS_DEPTH_CONCURRENCY } from './nats.constants';
import type { NatsDeclaredQueues } from './nats-declared-queues';
import type { NatsDeliveryVerifier } from './nats-delivery-verifier';
import { brokerError, jsApiCode, JS_ERR } from './nats-errors';
import type { NatsNames } from './nats-names';

/** Reads the depth of every work queue of this prefix. */
export class NatsDepth {
  constructor(
    private readonly jsm: () => JetStreamManager,
    private readonly names: NatsNames,
    private readonly queues: NatsDeclaredQueues,
    private readonly verifier: NatsDeliveryVerifier,
    private readonly logger: Logger,
  ) {}

  /**
   * Ready and in-flight items per queue. The stream list (up to 256 streams per API request)
   * carries each stream's message count. A work-queue stream holds exactly its items that are
   * waiting or in flight, so an empty one needs no consumer info; only non-empty queues cost a
   * request for the ready / in-flight split, at most NATS_DEPTH_CONCURRENCY at a time. A queue whose
   * consumer and stream have different leaders is forgotten, so its next pull aligns them, and
   * deliveries are checked against the stream leaders meanwhile (NatsDeliveryVerifier).
   * @throws BrokerUnavailableError when JetStream does not answer.
   */
  async read(): Promise<QueueDepth[]> {
    const jsm = this.jsm();
    try {
      const depths: QueueDepth[] = [];
      const nonEmpty: { stream: string; leader?: string; depth: QueueDepth }[] = [];
      for await (const info of jsm.streams.list(`${SUBJECT_PREFIX}.>`)) {
        const queue = this.names.parseWorkStream(info.config.name);
        if (!queue) continue;
        const depth: QueueDepth = { broker: 'nats', priority: queue.priority, domain: queue.domain, ready: 0, inFlight: 0 };
        depths.push(depth);
        if (info.state.messages > 0) nonEmpty.push({ stream: info.config.name, leader: info.cluster?.leader, depth });
      }
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < nonEmpty.length) {
          const { stream, leader, depth } = nonEmpty[next++];
          const info = await this.workConsumerInfo(jsm, stream, depth.priority, depth.domain);
          // Led from another node than its stream: the next pull declares the queue again, which moves the consumer (NatsConsumerAlignment).
          if (leader && info.cluster?.leader && info.cluster.leader !== leader) {
            this.queues.forget(depth.priority, depth.domain);
            this.verifier.suspect(`consumer of ${stream} led by ${info.cluster.leader}, its stream by ${leader}`);
          }
          depth.ready = info.num_pending;
          depth.inFlight = info.num_ack_pending;
        }
      };
      await Promise.all(Array.from({ length: Math.min(NATS_DEPTH_CONCURRENCY, nonEmpty.length) }, worker));
      await this.addDelayed(jsm, depths);
      await this.addBacklogs(jsm, depths);
      return depths;
    } catch (error) {
      throw brokerError(error, 'reading queue depth');
    }
  }

  /**
   * Items waiting out a long retry delay in the delay stream count as in flight for their queue,
   * as a delayed NAK does on the work consumer: not ready, and not lost.
   */
  private async addDelayed(jsm: JetStreamManager, depths: QueueDepth[]): Promise<void> {
    const info = await jsm.streams.info(this.names.delayStream, { subjects_filter: this.names.delaySubjects }).catch((error: unknown) => {
      // Deleted under us: nothing waits there (the delay mover declares it again).
      if (jsApiCode(error) === JS_ERR.streamNotFound) return undefined;
      throw error;
    });
    if (!info) return;
    for (const [subject, count] of Object.entries(info.state.subjects ?? {})) {
      const queue = this.names.parseDelaySubject(subject);
      if (!queue) continue;
      let depth = depths.find((row) => row.priority === queue.priority && row.domain === queue.domain);
      if (!depth) {
        depth = { broker: 'nats', priority: queue.priority, domain: queue.domain, ready: 0, inFlight: 0 };
        depths.push(depth);
      }
      depth.inFlight += count;
    }
  }

  /** Grouped items waiting in their group's backlog (no free slot yet) are ready items of their queue. */
  private async addBacklogs(jsm: JetStreamManager, depths: QueueDepth[]): Promise<void> {
    for await (const info of jsm.streams.list(this.names.allBacklogSubjects)) {
      const queue = this.names.parseBacklogStream(info.config.name);
      if (!queue) continue;
      let depth = depths.find((row) => row.priority === queue.priority && row.domain === queue.domain);
      if (!depth) {
        depth = { broker: 'nats', priority: queue.priority, domain: queue.domain, ready: 0, inFlight: 0 };
        depths.push(depth);
      }
      depth.ready += info.state.messages;
    }
  }

  /** A queue whose consumer was deleted gets it back, so its items are counted and delivered again. */
  private async workConsumerInfo(jsm: JetStreamManager, stream: string, priority: Priority, domain: string): Promise<ConsumerInfo> {
    try {
      return await jsm.consumers.info(stream, this.names.workConsumer);
    } catch (error) {
      if (jsApiCode(error) !== JS_ERR.consumerNotFound) throw error;
      this.logger.warn(`consumer ${stream}/${this.names.workConsumer} is missing; declaring it again`);
      this.queues.forget(priority, domain);
      await this.queues.declare(priority, domain);
      return jsm.consumers.info(stream, this.names.workConsumer);
    }
  }
}
