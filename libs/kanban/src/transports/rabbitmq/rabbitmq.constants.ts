/** Publishes not confirmed by the broker within this time reject (RabbitMqConnectionOptions.publishTimeoutMs). */
export const RABBITMQ_DEFAULT_PUBLISH_TIMEOUT_MS = 5_000;
/** A TCP connect plus AMQP handshake that takes longer fails the attempt. */
export const RABBITMQ_CONNECT_TIMEOUT_MS = 5_000;
/** A declaration or queue check the broker has not answered within this time fails. */
export const RABBITMQ_TOPOLOGY_TIMEOUT_MS = 5_000;
/**
 * A basic.consume the broker has not answered within this time fails and its channel is closed. A
 * quorum queue without a leader (RabbitMQ 3.10 can bring one back leaderless after a kill -9; see
 * the README) never answers it.
 */
export const RABBITMQ_CONSUME_TIMEOUT_MS = 5_000;
/** Each step of close (cancel, hand back, close channels, close the connection) gives up after this long, so a frozen broker cannot hold up shutdown. */
export const RABBITMQ_CLOSE_STEP_TIMEOUT_MS = 2_000;
/** Heartbeat asked for when the URL names none: a hung (SIGSTOPped) broker is noticed within two intervals. */
export const RABBITMQ_DEFAULT_HEARTBEAT_S = 10;
/** First delay before reconnecting after a connection loss; doubles per failed attempt. */
export const RABBITMQ_RECONNECT_INITIAL_DELAY_MS = 100;
/** Longest delay between reconnect attempts: a refused connect on a LAN costs next to nothing, and every extra second is outage after the node is back. */
export const RABBITMQ_RECONNECT_MAX_DELAY_MS = 1_000;
/** ± share of each reconnect delay drawn at random, so many clients do not reconnect in lockstep. */
export const RABBITMQ_RECONNECT_JITTER = 0.2;
/** Retry-After given with QueueFullError: the broker accepts again once the queue drained to 80 % of its limit. */
export const RABBITMQ_QUEUE_FULL_RETRY_AFTER_MS = 1_000;
/**
 * Credit of a queue's consumer, in pulls: its prefetch is `workerPullSize` × this (at most
 * RABBITMQ_MAX_PREFETCH). That keeps the pipe full for the workers of a process (raw amqplib runs at
 * prefetch 100 too) and bounds what one process holds of a queue, pulled and buffered together: the
 * ceiling the transport used to reach by adding consumers of `workerPullSize` one at a time, now
 * reached at once. Buffered items nobody pulled go back to the broker on close and when idle.
 */
export const RABBITMQ_CONSUMER_CREDIT_PULLS = 10;
/**
 * How long a domain pull keeps a queue `filling` (lower priorities wait) for a message this process
 * published to it and had confirmed, while the consumer had free credit: the broker pushes it at about
 * the time it confirms. Bounded because another process's consumer may take it.
 */
export const RABBITMQ_IN_TRANSIT_MS = 250;
/** basic.qos prefetch-count is a 16-bit field. */
export const RABBITMQ_MAX_PREFETCH = 65_535;
/**
 * Consumers one transport opens per queue, each with the credit above. One: a further consumer
 * would only let a process hold more than its bound.
 */
export const RABBITMQ_MAX_CONSUMERS_PER_QUEUE = 1;
/** How long a new consumer may take to receive the items that were ready when it subscribed, before lower priorities are served anyway. */
export const RABBITMQ_CONSUMER_FILL_TIMEOUT_MS = 1_000;
/**
 * A pull that has some items but fewer than it asked for waits at most this long (and never past its
 * waitMs) for consumers still receiving what the broker holds ready: a new consumer's backlog, or one
 * added because every consumer was at full prefetch.
 */
export const RABBITMQ_PULL_FILL_WINDOW_MS = 1_000;
/** Default of releaseIdleAfterMs: a queue nobody pulled for this long gives its prefetched items back and cancels its consumers (RabbitMQ closes channels that hold deliveries past `consumer_timeout`), then closes its channel once nothing on it is leased. */
export const RABBITMQ_CONSUMER_IDLE_MS = 30_000;
/** How often idle consumers are looked for. */
export const RABBITMQ_CONSUMER_IDLE_CHECK_MS = 5_000;
/** Unacknowledged records the dead-letter log's reader may hold (a stream consumer needs a prefetch). */
export const RABBITMQ_DEAD_LETTER_TAIL_PREFETCH = 2_000;
/** How long a read waits for the log's reader to reach a record appended for it. */
export const RABBITMQ_DEAD_LETTER_SYNC_TIMEOUT_MS = 10_000;
/** Letters of one page further apart than this many log records are read by separate stream reads. */
export const RABBITMQ_DEAD_LETTER_READ_GAP = 256;
/** Records one read of letters from the log may hold unacknowledged. */
export const RABBITMQ_DEAD_LETTER_READ_PREFETCH = 1_000;
/** How long one read of letters from the log may take. */
export const RABBITMQ_DEAD_LETTER_READ_TIMEOUT_MS = 10_000;
/** A replay's claim on a letter lapses this long after it was made, so a replay that died gives way. */
export const RABBITMQ_REPLAY_CLAIM_MS = 30_000;
/** How often a replay that lost the claim looks whether the winner removed the letter. */
export const RABBITMQ_REPLAY_POLL_MS = 20;
/** How long a schedule store read waits for its stream's reader to reach a record appended for it. */
export const RABBITMQ_SCHEDULE_SYNC_TIMEOUT_MS = 10_000;
/** Records a schedule stream's reader may hold unacknowledged (a stream consumer needs a prefetch). */
export const RABBITMQ_SCHEDULE_READ_PREFETCH = 1_000;
/**
 * Age after which the tick stream may drop records (`x-max-age`, whole segments only): a schedule
 * whose last tick is older than this may lose it, and then catches up nothing after an outage.
 */
export const RABBITMQ_SCHEDULE_TICK_MAX_AGE = '7D';
/** Segment size of the tick stream: retention drops whole segments, so they are kept small enough to roll. */
export const RABBITMQ_SCHEDULE_TICK_SEGMENT_BYTES = 8_000_000;
/**
 * How often an instance (re)joins the leadership queue when it is not consuming it, and offers a
 * token when it is not the leader, so a token lost (a purge while nobody held it) is replaced.
 */
export const RABBITMQ_SCHEDULE_LEADER_ROUND_MS = 2_000;
/** Broker-dead-lettered messages converted into records by one sweep. */
export const RABBITMQ_INTAKE_BATCH_MAX = 1_000;
/** Longest error text stored with a dead letter: AMQP header tables are limited to 64 KiB in total. */
export const RABBITMQ_DEAD_LETTER_ERROR_MAX_CHARS = 8_192;
/**
 * TTLs of the delay ladder's queues: powers of two from 128 ms to 2^27 ms (37 h, above the longest
 * retry delay of 24 h). A delayed item waits in the largest rung not past its due time, then comes
 * back through the due queue, which sends it on to a smaller rung or, once due, to its work queue.
 */
export const RABBITMQ_DELAY_RUNGS_MS: readonly number[] = Array.from({ length: 21 }, (_, index) => 2 ** (index + 7));
/** Due messages the ladder's mover holds at once (its consumer's prefetch). */
export const RABBITMQ_DELAY_MOVER_PREFETCH = 100;
/** A due message the mover could not send on (work queue full, broker refusing) goes back to the due queue after this long. */
export const RABBITMQ_DELAY_MOVE_BACKOFF_MS = 1_000;
/** Longest delay setTimeout honours. */
export const RABBITMQ_MAX_TIMER_MS = 2 ** 31 - 1;
/** Shown to the broker as the connection name. */
export const RABBITMQ_CONNECTION_NAME = 'tps-kanban';

/** Headers kanban writes. Dead-letter records carry the original body plus these. */
export const RABBITMQ_HEADERS = {
  /** Deliveries an item had before this message was published (a copy made by retry or hand-back). */
  attemptsBefore: 'x-kanban-attempts-before',
  reason: 'x-kanban-reason',
  error: 'x-kanban-error',
  attempts: 'x-kanban-attempts',
  deadLetteredAt: 'x-kanban-dead-lettered-at',
  priority: 'x-kanban-priority',
  domain: 'x-kanban-domain',
  malformed: 'x-kanban-malformed',
  /** Epoch ms before which a delayed retry must not be delivered again. */
  notBefore: 'x-kanban-not-before',
  /** The item's group: a message carrying it lives in its (priority, domain)'s grouped queue. */
  group: 'x-kanban-group',
  /** On a grouped queue, a spill marker (no item): names the spill queue a burst of one group went to (RabbitMqGroupSpills). */
  spill: 'x-kanban-spill',
  /** The last message of a spill queue (no item): its publisher sends nothing more there. */
  spillEnd: 'x-kanban-spill-end',
  /** Work-queue routing key a delayed retry goes back to. */
  routingKey: 'x-kanban-routing-key',
  /** Kind of a dead-letter log record (RABBITMQ_LOG_RECORDS); absent on a letter. */
  record: 'x-kanban-record',
  /** Names a log record so the instance that appended it sees when its reader reached it. */
  token: 'x-kanban-token',
  claimItem: 'x-kanban-claim-item',
  claimedAt: 'x-kanban-claimed-at',
} as const;

/** Records of the dead-letter log besides letters; the letter's id is the record's message id. */
export const RABBITMQ_LOG_RECORDS = {
  /** The letter was replayed or purged. */
  removed: 'removed',
  /** A replay claims the letter; the first claim wins (see RabbitMqDeadLetterStore.replay). */
  claim: 'claim',
  /** Carries only a token: an instance appends it to know it has read everything appended before. */
  sync: 'sync',
} as const;

/** Headers the broker sets and a republished copy must not carry over. */
export const RABBITMQ_BROKER_HEADERS = [
  'x-delivery-count',
  'x-acquired-count',
  'x-death',
  'x-first-death-exchange',
  'x-first-death-queue',
  'x-first-death-reason',
  'x-last-death-exchange',
  'x-last-death-queue',
  'x-last-death-reason',
] as const;
/** Attempts per lease to take a leadership queue another instance holds: a killed holder is replaced within one lease. */
export const RABBITMQ_LEADER_ATTEMPTS_PER_LEASE = 3;

/**
 * Prefetch of the consumer of a grouped queue: the grouped items of one (priority, domain) it holds
 * at once, buffered and leased. Fair hand-out reaches a light group's item once fewer than this
 * many items are ahead of it in the queue.
 */
export const RABBITMQ_GROUP_PREFETCH = 10_000;

/**
 * A grouped item buffered this long without being handed out (its group capped or rate-limited)
 * is given back to its queue as a copy, well before the broker's consumer_timeout (30 min) would
 * close the channel and count a delivery against every item on it.
 */
export const RABBITMQ_GROUP_BUFFER_MAX_MS = 10 * 60_000;

/**
 * A group one instance publishes more than this many items of within RABBITMQ_GROUP_SPILL_WINDOW_MS
 * is bursting: its further items go to a spill queue of their own, so its backlog does not fill the
 * grouped queue ahead of the other groups' items (see RabbitMqGroupSpills).
 */
export const RABBITMQ_GROUP_SPILL_BURST = 500;
export const RABBITMQ_GROUP_SPILL_WINDOW_MS = 1_000;
/** A spill ends once its publisher sent nothing to it for this long: an end marker closes the queue. */
export const RABBITMQ_GROUP_SPILL_IDLE_MS = 2_000;
/**
 * Prefetch of the holder's consumer on a spill queue: a bursting group's items it holds at once.
 * Small, since deliveries share the holder's channel: the other groups' items wait behind what is
 * on its way (fair-share bench: light p50 75 ms with 1,000, 35 ms with 200, heavy items/s alike).
 */
export const RABBITMQ_GROUP_SPILL_PREFETCH = 200;
/**
 * A spill queue is deleted once its end marker arrived, everything else from it was settled and
 * nothing was returned to it or received from it for this long (a returned message is ready again
 * before then), and the broker counts it empty.
 */
export const RABBITMQ_GROUP_SPILL_QUIET_MS = 5_000;
/** Records of the spills stream older than this may go: a spill queue that lasts is announced again every RABBITMQ_GROUP_SPILL_ANNOUNCE_MS. */
export const RABBITMQ_GROUP_SPILLS_MAX_AGE = '1D';
export const RABBITMQ_GROUP_SPILL_ANNOUNCE_MS = 60 * 60_000;
/** A spill queue without an end marker whose publisher's connection is gone is treated as ended after it was quiet this long. */
export const RABBITMQ_GROUP_SPILL_ORPHAN_MS = 30_000;

/** A pull restarts the run-time group limits' reader (or its first read) at most this often while it is not running. */
export const RABBITMQ_GROUP_LIMITS_FOLLOW_RETRY_MS = 1_000;
