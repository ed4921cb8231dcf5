import { performance } from 'node:perf_hooks';
import type { Logger } from '@nestjs/common';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { NATS_API_TIMEOUT_MS, NATS_DELIVERY_RECHECK_MS, NATS_DELIVERY_UNVERIFIED_HOLD_MS, NATS_DELIVERY_VERIFY_WINDOW_MS } from './nats.constants';
import { NatsConsumerAlignment } from './nats-consumer-alignment';
import { brokerError } from './nats-errors';
import type { FedMessage } from './nats-feed';
import { parseAckSubject } from './nats-lease';
import type { NatsNames } from './nats-names';
import { nak } from './nats-settle-verbs';

/** Leader elections and lost quorums of streams and consumers: `$JS.EVENT.ADVISORY.<STREAM|CONSUMER>.<event>.<stream>[.<consumer>]`. */
const CLUSTER_ADVISORIES = ['LEADER_ELECTED', 'QUORUM_LOST'].map((event) => `$JS.EVENT.ADVISORY.*.${event}.>`);
const ADVISORY_STREAM_TOKEN = 5;

/** Why a delivery is withheld; `diverged` when the leader answered with something else than was delivered. */
interface Verdict {
  diverged: boolean;
  why: string;
}

/**
 * Checks, for a while after cluster trouble, that what a replicated work consumer delivers is what
 * its stream's leader stores at that sequence.
 *
 * nats-server 2.9 can leave a former stream leader holding publishes it never acknowledged at the
 * sequences the new leader gave to acknowledged items (see NatsConsumerAlignment). A consumer led
 * from that node hands out its copies, and their acks, by sequence, delete the acknowledged items
 * everywhere. Alignment moves such a consumer, but only once something notices it; until then the
 * deliveries themselves are checked. The stream API's message get is answered by the stream's
 * leader alone (a direct get may be answered by any replica, the diverged one too). A delivery the
 * leader does not hold byte for byte is neither handed out nor acked: the consumer is moved to the
 * stream's leader, then the delivery is NAKed so that leader redelivers its own item at that sequence.
 *
 * The window opens on a reconnect, a refused or unanswered pull, a publish that failed, a leader
 * election or lost quorum of one of this prefix's work streams or consumers, or depth seeing a
 * consumer led from another node than its stream; each sign extends it. Outside it, and on
 * unreplicated streams, deliveries cost nothing extra.
 */
export class NatsDeliveryVerifier {
  private until = 0;

  constructor(
    private readonly replicated: boolean,
    private readonly names: NatsNames,
    /** The connection and its JetStream manager; throws BrokerUnavailableError when disconnected. */
    private readonly clients: () => { nc: NatsConnection; jsm: JetStreamManager },
    private readonly logger: Logger,
  ) {}

  /** Opens or extends the window. */
  suspect(why: string): void {
    if (!this.replicated) return;
    if (!this.active) this.logger.log(`checking deliveries against their stream leaders for ${NATS_DELIVERY_VERIFY_WINDOW_MS} ms: ${why}`);
    this.until = performance.now() + NATS_DELIVERY_VERIFY_WINDOW_MS;
  }

  /** Opens the window on every leader election or lost quorum of this prefix's work streams and their consumers. */
  watch(nc: NatsConnection): void {
    if (!this.replicated) return;
    for (const subject of CLUSTER_ADVISORIES) {
      nc.subscribe(subject, {
        callback: (error, message) => {
          if (error) return;
          const stream = message.subject.split('.')[ADVISORY_STREAM_TOKEN];
          if (stream && this.names.parseWorkStream(stream)) this.suspect(`advisory ${message.subject}`);
        },
      });
    }
  }

  private get active(): boolean {
    return performance.now() < this.until;
  }

  /**
   * The deliveries to hand out (`verified`): all of them outside the window; inside it, those the
   * stream's leader stores as delivered. Those it stores otherwise are released for the leader to
   * redeliver, after the consumer is moved to it. Those it could not be asked about (`unanswered`:
   * an election under way) are neither handed out nor released: a release would spend one of the
   * item's attempts each time, and an election outlasts a few; the caller asks again later, until
   * NATS_DELIVERY_UNVERIFIED_HOLD_MS has passed, when they are released after all. Disconnected,
   * none is handed out: JetStream redelivers them after their ack wait.
   */
  async verify(stream: string, consumer: string, fed: FedMessage[]): Promise<{ verified: FedMessage[]; unanswered: FedMessage[] }> {
    if (!this.active || fed.length === 0) return { verified: fed, unanswered: [] };
    let nc: NatsConnection;
    let jsm: JetStreamManager;
    try {
      ({ nc, jsm } = this.clients());
    } catch (error) {
      this.logger.warn(
        `${fed.length} deliveries of ${stream} withheld: they cannot be checked against the stream leader (${(error as Error).message}); JetStream redelivers them after their ack wait`,
      );
      return { verified: [], unanswered: [] };
    }
    const checks = await Promise.all(fed.map(async (entry) => ({ entry, verdict: await this.check(jsm, stream, entry) })));
    const now = performance.now();
    const verified: FedMessage[] = [];
    const unanswered: FedMessage[] = [];
    const released: { entry: FedMessage; why: string }[] = [];
    let unansweredWhy = '';
    for (const { entry, verdict } of checks) {
      if (!verdict) verified.push(entry);
      else if (verdict.diverged || now - (entry.unverifiedSince ?? now) >= NATS_DELIVERY_UNVERIFIED_HOLD_MS) released.push({ entry, why: verdict.why });
      else {
        unanswered.push({ ...entry, unverifiedSince: entry.unverifiedSince ?? now });
        unansweredWhy = verdict.why;
      }
    }
    if (unanswered.length > 0) this.logger.warn(`${unanswered.length} deliveries of ${stream} held unhanded: ${unansweredWhy}; asked again in ${NATS_DELIVERY_RECHECK_MS} ms`);
    if (released.length > 0)
      await this.release(
        nc,
        jsm,
        stream,
        consumer,
        released,
        checks.some(({ verdict }) => verdict?.diverged),
      );
    return { verified, unanswered };
  }

  private async release(nc: NatsConnection, jsm: JetStreamManager, stream: string, consumer: string, withheld: { entry: FedMessage; why: string }[], diverged: boolean): Promise<void> {
    for (const { entry, why } of withheld) {
      this.logger.warn(`delivery of ${stream} seq ${parseAckSubject(entry.message.reply ?? '')?.streamSeq} withheld: ${why}; released for the stream leader to redeliver`);
    }
    if (diverged) await this.alignConsumer(nc, jsm, stream, consumer);
    const released = await Promise.allSettled(withheld.map(({ entry }) => nc.request(entry.message.reply as string, nak(0), { timeout: NATS_API_TIMEOUT_MS })));
    const failed = released.filter((result) => result.status === 'rejected').length;
    if (failed > 0) this.logger.warn(`releasing ${failed} withheld deliveries of ${stream} failed; JetStream redelivers them after their ack wait`);
  }

  /** Undefined when the stream's leader stores the delivered message at its sequence. */
  private async check(jsm: JetStreamManager, stream: string, { message }: FedMessage): Promise<Verdict | undefined> {
    const seq = parseAckSubject(message.reply ?? '')?.streamSeq;
    if (seq === undefined) return undefined;
    try {
      const stored = await jsm.streams.getMessage(stream, { seq });
      if (!stored) return { diverged: true, why: 'the stream leader holds no message at that sequence' };
      return Buffer.compare(stored.data, message.data) === 0 ? undefined : { diverged: true, why: 'the stream leader holds another item at that sequence' };
    } catch (error) {
      return { diverged: false, why: `the stream leader could not be asked (${(error as Error).message})` };
    }
  }

  private async alignConsumer(nc: NatsConnection, jsm: JetStreamManager, stream: string, consumer: string): Promise<void> {
    let leaders: [string | undefined, string | undefined];
    try {
      leaders = await Promise.all([jsm.streams.info(stream).then((info) => info.cluster?.leader), jsm.consumers.info(stream, consumer).then((info) => info.cluster?.leader)]);
    } catch (error) {
      this.logger.warn(`${brokerError(error, `reading the leaders of ${stream}/${consumer}`).message}; the consumer is not moved`);
      return;
    }
    await new NatsConsumerAlignment(nc, jsm, this.logger).align(stream, consumer, ...leaders);
  }
}
