import { randomBytes } from 'node:crypto';
import type { Logger } from '@nestjs/common';
import type { Channel, ChannelModel } from 'amqplib';
import { BrokerUnavailableError } from '../../errors';
import type { Priority } from '../../interfaces';
import { asKanbanError } from './rabbitmq-amqp-errors';
import { spillOwnerQueueOf, type RabbitMqNames } from './rabbitmq-names';
import type { PublishTarget, RabbitMqPublisher } from './rabbitmq-publisher';
import type { RabbitMqTopology } from './rabbitmq-topology';
import { RABBITMQ_GROUP_SPILL_BURST, RABBITMQ_GROUP_SPILL_IDLE_MS, RABBITMQ_GROUP_SPILL_WINDOW_MS, RABBITMQ_HEADERS } from './rabbitmq.constants';

/** How often spills are checked for their end. */
const END_CHECK_MS = 250;

/** One burst of a group from this instance: its items go to `queue` once the marker announcing it is confirmed. */
interface Spill {
  queue: string;
  priority: Priority;
  domain: string;
  open: boolean;
  /** Publishes to the queue awaiting their confirm: the end marker goes after them. */
  inFlight: number;
  lastPublishAt: number;
}

/** What this instance published of one group lately. */
interface Burst {
  windowStart: number;
  count: number;
  spill?: Spill;
  /** performance.now() of a failed spill opening: the next try waits one window. */
  failedAt?: number;
}

/** Where one grouped item goes, to report its outcome back (`sent`). */
export interface SpillRoute {
  target: PublishTarget;
  spill?: Spill;
}

/**
 * Keeps one group's burst from filling its grouped queue ahead of every other group (issue #13):
 * the grouped queue's holder sees only its first RABBITMQ_GROUP_PREFETCH items, so a light group's
 * item behind 100,000 items of a heavy one would wait for them all. When this instance publishes
 * more than RABBITMQ_GROUP_SPILL_BURST items of a group within RABBITMQ_GROUP_SPILL_WINDOW_MS, it
 * opens a spill queue for the burst: an exclusive owner queue on the publishing connection (gone
 * with it), the spill queue, then a marker in the grouped queue naming it, and only once the marker
 * is confirmed do the group's further items go to the spill queue. The holder consumes each spill
 * queue a marker names beside the grouped queue, so the group stays one group for fair hand-out,
 * caps and rates. A spill ends when this instance sent nothing to it for RABBITMQ_GROUP_SPILL_IDLE_MS:
 * an end marker is its last message and the owner queue goes; the holder deletes the queue once it
 * is drained (RabbitMqSpillHolder). Each burst gets a queue of its own, so no queue is ever written
 * to after its end marker.
 */
export class RabbitMqGroupSpills {
  private readonly bursts = new Map<string, Burst>();
  private readonly instance = randomBytes(6).toString('hex');
  private episodes = 0;
  private model?: ChannelModel;
  private ownerChannel?: Promise<Channel>;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly names: RabbitMqNames,
    private readonly topology: RabbitMqTopology,
    private readonly publisher: RabbitMqPublisher,
    private readonly logger: Logger,
    /** A spill queue opened: every instance's depth must count it. */
    private readonly opened: (spill: { queue: string; priority: Priority; domain: string }) => void,
  ) {
    this.timer = setInterval(() => this.endQuietSpills(), END_CHECK_MS);
    this.timer.unref();
  }

  /** The publishing connection: owner queues live on it. */
  attach(model: ChannelModel): void {
    this.model = model;
    this.ownerChannel = undefined;
  }

  /** The publishing connection is gone, and the owner queues with it: this instance's spills are over. */
  detach(): void {
    this.model = undefined;
    this.ownerChannel = undefined;
    this.bursts.clear();
  }

  close(): void {
    clearInterval(this.timer);
    this.detach();
  }

  /** Where the next item of `group` goes: its burst's open spill queue, else the grouped queue (counted towards a burst). */
  route(priority: Priority, domain: string, group: string): SpillRoute {
    const key = `${priority}\u0000${domain}\u0000${group}`;
    const now = performance.now();
    let burst = this.bursts.get(key);
    if (!burst) this.bursts.set(key, (burst = { windowStart: now, count: 0 }));
    const { spill } = burst;
    if (spill?.open) {
      spill.inFlight++;
      spill.lastPublishAt = now;
      return { target: { exchange: '', routingKey: spill.queue, queue: spill.queue }, spill };
    }
    if (now - burst.windowStart >= RABBITMQ_GROUP_SPILL_WINDOW_MS) {
      burst.windowStart = now;
      burst.count = 0;
    }
    burst.count++;
    const retryDue = burst.failedAt === undefined || now - burst.failedAt >= RABBITMQ_GROUP_SPILL_WINDOW_MS;
    if (burst.count > RABBITMQ_GROUP_SPILL_BURST && !spill && retryDue && this.model) this.open(key, burst, priority, domain, group);
    return { target: this.names.publishTarget(priority, domain, true) };
  }

  /** The publish of a routed item finished; a spill queue that refused it (deleted, unroutable) takes no more. */
  sent(route: SpillRoute, error?: unknown): void {
    const { spill } = route;
    if (!spill) return;
    spill.inFlight--;
    spill.lastPublishAt = performance.now();
    if (error instanceof BrokerUnavailableError) this.forget(spill);
  }

  private open(key: string, burst: Burst, priority: Priority, domain: string, group: string): void {
    const queue = this.names.spillQueue(priority, domain, group, `${this.instance}${(++this.episodes).toString(36)}`);
    const spill: Spill = { queue, priority, domain, open: false, inFlight: 0, lastPublishAt: performance.now() };
    burst.spill = spill;
    (async () => {
      const channel = await this.channel();
      try {
        await channel.assertQueue(spillOwnerQueueOf(queue), { exclusive: true, durable: false });
      } catch (error) {
        throw asKanbanError(error, `declaring the owner queue of ${queue}`);
      }
      await this.topology.declareSpillQueue(queue);
      await this.publisher.publish(this.names.publishTarget(priority, domain, true), Buffer.alloc(0), {
        messageId: `spill.${queue}`,
        headers: { [RABBITMQ_HEADERS.spill]: queue, [RABBITMQ_HEADERS.group]: group },
      });
      if (this.bursts.get(key)?.spill !== spill) return;
      spill.open = true;
      this.opened({ queue, priority, domain });
      this.logger.log(`Group ${group} of ${priority}/${domain} is bursting: its further items go to ${queue}`);
    })().catch((error: unknown) => {
      this.logger.warn(`Could not open a spill queue for group ${group} of ${priority}/${domain} (${(error as Error).message}); its items stay in the grouped queue`);
      if (burst.spill === spill) {
        burst.spill = undefined;
        burst.failedAt = performance.now();
      }
    });
  }

  /** Spills nothing was sent to for RABBITMQ_GROUP_SPILL_IDLE_MS end; bursts without a spill are forgotten once their window passed. */
  private endQuietSpills(): void {
    const now = performance.now();
    for (const [key, burst] of this.bursts) {
      const { spill } = burst;
      if (!spill) {
        if (now - burst.windowStart >= 2 * RABBITMQ_GROUP_SPILL_WINDOW_MS) this.bursts.delete(key);
        continue;
      }
      if (!spill.open || spill.inFlight > 0 || now - spill.lastPublishAt < RABBITMQ_GROUP_SPILL_IDLE_MS) continue;
      this.bursts.delete(key);
      this.end(spill).catch((error: unknown) =>
        this.logger.warn(`Could not close spill queue ${spill.queue} (${(error as Error).message}); its holder ends it once this connection's owner queue is gone`),
      );
    }
  }

  /**
   * The end marker after every item (same channel, confirmed), then the owner queue goes, even
   * when the marker could not be sent: the holder then ends the spill once it is quiet.
   */
  private async end(spill: Spill): Promise<void> {
    const unsent = await this.publisher
      .publish({ exchange: '', routingKey: spill.queue, queue: spill.queue }, Buffer.alloc(0), {
        messageId: `spill-end.${spill.queue}`,
        headers: { [RABBITMQ_HEADERS.spillEnd]: '1' },
      })
      .then(
        () => undefined,
        (error: unknown) => (error instanceof Error ? error : new BrokerUnavailableError('rabbitmq', String(error))),
      );
    const channel = await this.channel();
    try {
      await channel.deleteQueue(spillOwnerQueueOf(spill.queue));
    } catch (error) {
      throw asKanbanError(error, `deleting the owner queue of ${spill.queue}`);
    }
    if (unsent) throw unsent;
  }

  /** The spill queues this instance sends a group's items to. */
  openQueues(): Array<{ queue: string; priority: Priority; domain: string }> {
    return [...this.bursts.values()].flatMap(({ spill }) => (spill?.open ? [{ queue: spill.queue, priority: spill.priority, domain: spill.domain }] : []));
  }

  /** Closing: every open spill ends now (its publishes went out before on the same channel), so holders need not wait for the owner queues to go. */
  async endAll(): Promise<void> {
    const open = [...this.bursts.values()].flatMap((burst) => (burst.spill?.open ? [burst.spill] : []));
    this.bursts.clear();
    await Promise.all(open.map((spill) => this.end(spill)));
  }

  /** A spill queue that refused a publish takes no more: the group starts over in the grouped queue. */
  private forget(spill: Spill): void {
    let known = false;
    for (const [key, burst] of this.bursts) {
      if (burst.spill !== spill) continue;
      this.bursts.delete(key);
      known = true;
    }
    if (known) this.end(spill).catch((error: unknown) => this.logger.warn(`Could not close spill queue ${spill.queue} after a refused publish: ${(error as Error).message}`));
  }

  private channel(): Promise<Channel> {
    const model = this.model;
    if (!model) return Promise.reject(new BrokerUnavailableError('rabbitmq', 'not connected'));
    if (!this.ownerChannel) {
      const opening = model.createChannel().then((channel) => {
        channel.on('error', (error: Error) => this.logger.warn(`RabbitMQ spill owner channel closed by the broker: ${error.message}`));
        channel.once('close', () => {
          if (this.ownerChannel === opening) this.ownerChannel = undefined;
        });
        return channel;
      });
      opening.catch(() => {
        if (this.ownerChannel === opening) this.ownerChannel = undefined;
      });
      this.ownerChannel = opening;
    }
    return this.ownerChannel;
  }
}
