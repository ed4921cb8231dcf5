import type { Logger } from '@nestjs/common';
import type { ConsumerConfig, ConsumerInfo, JetStreamManager, StreamConfig, StreamInfo } from '@nats-io/jetstream';
import { AckPolicy, DiscardPolicy, RetentionPolicy, StorageType } from './jetstream-client';
import { nanos } from './nats-client';
import { TopologyConflictError } from '../../errors';
import type { Priority } from '../../interfaces/work-item.interface';
import type { TransportSettings } from '../../transport/kanban-transport';
import { NATS_ADVISORY_MAX_AGE_MS, NATS_DEAD_LETTER_MAX_AGE_MS, NATS_DELAY_ACK_WAIT_MS, NATS_ENVELOPE_OVERHEAD_BYTES, NATS_MIN_DUPLICATE_WINDOW_MS } from './nats.constants';
import type { NatsConsumerAlignment } from './nats-consumer-alignment';
import { dropAcknowledgedSlots } from './nats-acknowledged-slots';
import { brokerError, jsApiCode, JS_ERR, mayAnswerSoon } from './nats-errors';
import type { NatsNames } from './nats-names';

/** In-flight deliveries one work consumer allows: this many full pulls across all workers and instances. */
export const NATS_ACK_PENDING_PULLS = 100;
/** The advisory consumer's ack wait: one sweep handles its batch well within it. */
const ADVISORY_ACK_WAIT_MS = 60_000;

/** Stream settings that must match exactly; anything else kanban updates in place. */
/** What a queue's stream takes from the options, updated in place when they change. */
const QUEUE_STREAM_UPDATABLE: (keyof StreamConfig)[] = ['max_msgs', 'max_msg_size', 'duplicate_window'];

type FixedStreamFields = Pick<StreamConfig, 'retention' | 'storage' | 'discard'>;

/**
 * Declares the streams and consumers kanban needs, idempotently: creates what is missing, updates
 * limits that changed, and refuses (TopologyConflictError) what it must not silently change.
 */
export class NatsTopology {
  constructor(
    private readonly jsm: JetStreamManager,
    private readonly names: NatsNames,
    private readonly settings: TransportSettings,
    private readonly replicas: number,
    private readonly alignment: NatsConsumerAlignment,
    private readonly logger: Logger,
  ) {}

  /** Largest message a work stream takes: the payload limit plus the item's envelope. */
  get maxMessageBytes(): number {
    return this.settings.maxPayloadBytes + NATS_ENVELOPE_OVERHEAD_BYTES;
  }

  private get duplicateWindowNanos(): number {
    return nanos(Math.max(this.settings.dedupWindowMs, NATS_MIN_DUPLICATE_WINDOW_MS));
  }

  /**
   * Per-delivery ack wait. JetStream replaces ack_wait with backoff[0] when a backoff is set and
   * needs max_deliver > backoff length, so the list holds one lease per attempt, each stretched by
   * that attempt's retry delay: a lapsed lease is redelivered after the delay, like a retry.
   */
  workBackoffMs(): number[] {
    const { leaseMs, retryBackoffMs, maxAttempts } = this.settings;
    return Array.from({ length: maxAttempts }, (_, i) => leaseMs + retryBackoffMs[Math.min(i, retryBackoffMs.length - 1)]);
  }

  async ensureShared(): Promise<void> {
    await this.ensureStream(
      {
        name: this.names.deadLetterStream,
        subjects: [this.names.deadLetterSubjects],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.New,
        max_age: nanos(NATS_DEAD_LETTER_MAX_AGE_MS),
        duplicate_window: this.duplicateWindowNanos,
        num_replicas: this.replicas,
      },
      ['max_age', 'duplicate_window'],
    );
    await this.ensureStream(
      {
        name: this.names.idempotencyStream,
        subjects: [this.names.idempotencySubjects],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        max_msgs_per_subject: 1,
        max_age: this.duplicateWindowNanos,
        num_replicas: this.replicas,
      },
      ['max_age'],
    );
    await this.ensureStream(
      {
        name: this.names.advisoryStream,
        subjects: [this.names.advisorySubject],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        max_age: nanos(NATS_ADVISORY_MAX_AGE_MS),
        num_replicas: this.replicas,
      },
      ['max_age'],
    );
    await this.ensureStream(
      {
        name: this.names.delayStream,
        subjects: [this.names.delaySubjects],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
        discard: DiscardPolicy.New,
        duplicate_window: this.duplicateWindowNanos,
        num_replicas: this.replicas,
      },
      ['duplicate_window'],
    );
    await this.ensureConsumer(this.names.delayStream, {
      durable_name: this.names.delayConsumer,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(NATS_DELAY_ACK_WAIT_MS),
      // Each not-yet-due item is naked back with its remaining delay: redeliveries are unbounded and every waiting item is pending.
      max_deliver: -1,
      max_ack_pending: -1,
    });
    await this.ensureConsumer(this.names.advisoryStream, {
      durable_name: this.names.advisoryConsumer,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(ADVISORY_ACK_WAIT_MS),
      max_deliver: -1,
    });
  }

  /**
   * Declares the queue's stream and consumer; on a replicated stream, also has the consumer led by
   * the stream's leader (see NatsConsumerAlignment). Runs on first use and again after a reconnect
   * or a lost pull, which is when leaders may have moved.
   */
  async ensureWorkQueue(priority: Priority, domain: string): Promise<string> {
    const stream = this.names.workStream(priority, domain);
    const streamInfo = await this.declareWorkStream(priority, domain);
    const backoff = this.workBackoffMs();
    const consumerInfo = await this.ensureConsumer(stream, {
      durable_name: this.names.workConsumer,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(backoff[0]),
      backoff: backoff.map(nanos),
      // One delivery beyond maxAttempts: the pull that receives it dead-letters the item as stalled.
      max_deliver: this.settings.maxAttempts + 1,
      max_ack_pending: this.settings.workerPullSize * NATS_ACK_PENDING_PULLS,
    });
    if (this.replicas > 1) await this.alignment.align(stream, this.names.workConsumer, streamInfo?.cluster?.leader, consumerInfo?.cluster?.leader);
    // Declared again after every reconnect, which is when a restarted server may show acknowledged messages still stored.
    if (streamInfo && consumerInfo && streamInfo.state.messages > 0 && streamInfo.state.first_seq <= consumerInfo.ack_floor.stream_seq) {
      await dropAcknowledgedSlots(this.jsm, stream, this.names.groupSlotsFilter(priority, domain), consumerInfo.ack_floor.stream_seq, this.logger).catch((error: unknown) => {
        throw brokerError(error, `freeing acknowledged slots of ${stream}`);
      });
    }
    return stream;
  }

  /**
   * The work stream alone: all a publish of an item without a group needs. Its consumer (and the
   * consumer's alignment with the stream's leader) waits for whoever pulls: after a cluster node
   * is lost, a consumer may elect its leader well after its stream, and publishes need not wait.
   */
  async ensureWorkStream(priority: Priority, domain: string): Promise<string> {
    await this.declareWorkStream(priority, domain);
    return this.names.workStream(priority, domain);
  }

  private declareWorkStream(priority: Priority, domain: string): Promise<StreamInfo | undefined> {
    return this.ensureStream(
      this.queueStream(this.names.workStream(priority, domain), [this.names.workSubject(priority, domain), this.names.groupSlotsFilter(priority, domain)], RetentionPolicy.Workqueue),
      QUEUE_STREAM_UPDATABLE,
      [this.names.groupSlotsFilter(priority, domain)],
    );
  }

  /**
   * The backlog of a queue's groups (see nats-group-admission.ts): limits retention, so an item
   * leaves it only when the mover deletes it after storing it in a slot.
   */
  async ensureBacklog(priority: Priority, domain: string): Promise<string> {
    const stream = this.names.backlogStream(priority, domain);
    await this.ensureStream(this.queueStream(stream, [this.names.backlogSubjects(priority, domain)], RetentionPolicy.Limits), QUEUE_STREAM_UPDATABLE);
    return stream;
  }

  /** Run-time group limits, last value per (domain, group). */
  async ensureGroupLimits(): Promise<void> {
    await this.ensureStream(
      {
        name: this.names.groupLimitsStream,
        subjects: [this.names.groupLimitsSubjects],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        max_msgs_per_subject: 1,
        num_replicas: this.replicas,
      },
      [],
    );
  }

  /** Groups' next due times; a record older than `maxAgeMs` is in the past anyway and goes. */
  async ensureGroupRate(maxAgeMs: number): Promise<void> {
    await this.ensureStream(
      {
        name: this.names.groupRateStream,
        subjects: [this.names.groupRateSubjects],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        max_msgs_per_subject: 1,
        max_age: nanos(maxAgeMs),
        num_replicas: this.replicas,
      },
      ['max_age'],
    );
  }

  /**
   * @param updatable fields updated in place when they differ.
   * @param addable subjects added in place when missing (a work stream declared before groups existed gets its slot subjects); any other missing subject is a conflict.
   * @returns the stream's info as read, or undefined when it was just created.
   */
  /** A stream holding a queue's items (its work stream, its groups' backlog): the queue's depth, item size and dedup window are its limits. */
  private queueStream(name: string, subjects: string[], retention: StreamConfig['retention']): Partial<StreamConfig> & { name: string; subjects: string[] } {
    return {
      name,
      subjects,
      retention,
      storage: StorageType.File,
      discard: DiscardPolicy.New,
      max_msgs: this.settings.maxQueueDepth,
      max_bytes: -1,
      max_msg_size: this.maxMessageBytes,
      duplicate_window: this.duplicateWindowNanos,
      num_replicas: this.replicas,
    };
  }

  private async ensureStream(config: Partial<StreamConfig> & { name: string; subjects: string[] }, updatable: (keyof StreamConfig)[], addable: string[] = []): Promise<StreamInfo | undefined> {
    let info = await this.streamInfo(config.name);
    if (!info) {
      try {
        await this.jsm.streams.add(config);
        this.logger.log(`created JetStream stream ${config.name} on ${config.subjects.join(', ')}`);
        return undefined;
      } catch (error) {
        if (jsApiCode(error) === JS_ERR.subjectsOverlap || /overlap/i.test((error as Error).message)) {
          throw new TopologyConflictError('nats', `stream ${config.name}`, `its subjects ${config.subjects.join(', ')} are already captured by another stream`);
        }
        if (jsApiCode(error) !== JS_ERR.streamNameInUse) throw brokerError(error, `creating stream ${config.name}`);
        info = await this.streamInfo(config.name);
        if (!info) throw brokerError(error, `creating stream ${config.name}`);
      }
    }
    const toAdd = addable.filter((subject) => !(info.config.subjects ?? []).includes(subject));
    this.assertCompatible(info, { ...config, subjects: config.subjects.filter((subject) => !toAdd.includes(subject)) });
    const changed: (keyof StreamConfig)[] = updatable.filter((key) => JSON.stringify(info.config[key]) !== JSON.stringify(config[key]));
    if (toAdd.length > 0) changed.push('subjects');
    if (changed.length === 0) return info;
    const subjects = [...(info.config.subjects ?? []), ...toAdd];
    try {
      await this.jsm.streams.update(config.name, { ...info.config, ...Object.fromEntries(changed.map((key) => [key, key === 'subjects' ? subjects : config[key]])) });
      this.logger.log(`updated JetStream stream ${config.name}: ${changed.join(', ')}`);
      return info;
    } catch (error) {
      throw new TopologyConflictError('nats', `stream ${config.name}`, `updating ${changed.join(', ')} was refused (${(error as Error).message})`);
    }
  }

  private assertCompatible(info: StreamInfo, wanted: Partial<StreamConfig> & { subjects: string[] }): void {
    const fixed: (keyof FixedStreamFields)[] = ['retention', 'storage', 'discard'];
    const wrong = fixed.filter((key) => info.config[key] !== wanted[key]).map((key) => `${key} is ${info.config[key]}, kanban needs ${wanted[key]}`);
    const missing = wanted.subjects.filter((subject) => !(info.config.subjects ?? []).includes(subject));
    if (missing.length > 0) wrong.push(`subjects ${JSON.stringify(info.config.subjects)} lack ${missing.join(', ')}`);
    if (wrong.length > 0) throw new TopologyConflictError('nats', `stream ${info.config.name}`, wrong.join('; '));
  }

  private async streamInfo(name: string): Promise<StreamInfo | undefined> {
    try {
      return await this.jsm.streams.info(name);
    } catch (error) {
      if (jsApiCode(error) === JS_ERR.streamNotFound) return undefined;
      throw brokerError(error, `reading stream ${name}`);
    }
  }

  /** @returns the consumer's info as read, or undefined when it was just created. */
  private async ensureConsumer(stream: string, config: Partial<ConsumerConfig> & { durable_name: string }): Promise<ConsumerInfo | undefined> {
    const name = config.durable_name;
    let info: ConsumerInfo | undefined;
    try {
      info = await this.jsm.consumers.info(stream, name);
    } catch (error) {
      if (jsApiCode(error) !== JS_ERR.consumerNotFound) throw brokerError(error, `reading consumer ${stream}/${name}`);
    }
    if (!info) {
      try {
        await this.jsm.consumers.add(stream, config);
        this.logger.log(`created JetStream consumer ${stream}/${name}`);
        return undefined;
      } catch (error) {
        // A stream another instance has just created may not have its leader yet: that answers soon, it is no conflict.
        if (mayAnswerSoon(error)) throw brokerError(error, `creating consumer ${stream}/${name}`);
        // Work-queue streams take one consumer per subject: someone else's consumer is a conflict.
        throw new TopologyConflictError('nats', `consumer ${stream}/${name}`, (error as Error).message);
      }
    }
    if (info.config.ack_policy !== AckPolicy.Explicit || info.config.deliver_subject) {
      throw new TopologyConflictError('nats', `consumer ${stream}/${name}`, 'it must be a pull consumer with explicit ack');
    }
    const updatable = ['ack_wait', 'backoff', 'max_deliver', 'max_ack_pending'] as const;
    const changed = updatable.filter((key) => config[key] !== undefined && JSON.stringify(info.config[key]) !== JSON.stringify(config[key]));
    if (changed.length === 0) return info;
    try {
      await this.jsm.consumers.update(stream, name, Object.fromEntries(changed.map((key) => [key, config[key]])));
      this.logger.log(`updated JetStream consumer ${stream}/${name}: ${changed.join(', ')}`);
      return info;
    } catch (error) {
      throw new TopologyConflictError('nats', `consumer ${stream}/${name}`, `updating ${changed.join(', ')} was refused (${(error as Error).message})`);
    }
  }
}
