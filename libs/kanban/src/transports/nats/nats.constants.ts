/** A publish that JetStream has not acknowledged within this time fails (and fails over). */
export const NATS_DEFAULT_PUBLISH_TIMEOUT_MS = 2_000;
/**
 * A publish that found no stream leader (no responders, no answer, its connection lost mid-request)
 * is sent again this long after, with the same Nats-Msg-Id, until its publish timeout has passed:
 * a JetStream cluster elects a new stream leader within seconds of losing one.
 */
export const NATS_PUBLISH_RETRY_INTERVAL_MS = 250;
/**
 * Within its publish timeout, a publish not acknowledged this long after it was sent is sent again
 * (same Nats-Msg-Id): a request that reached a stream leader as it died is never answered.
 */
export const NATS_PUBLISH_ATTEMPT_TIMEOUT_MS = 2_000;
/** A queue call that found no stream leader counts as the queue's trouble, not the broker's, when the server answers a ping within this time. */
export const NATS_SERVER_PING_TIMEOUT_MS = 1_000;
/** Name prefix of the streams and consumers kanban creates. */
export const NATS_DEFAULT_STREAM_PREFIX = 'KANBAN';
export const NATS_DEFAULT_CONNECTION_NAME = 'tps-kanban';
export const NATS_DEFAULT_REPLICAS = 1;
/** JetStream API calls (stream/consumer info, message get) that take longer fail. */
export const NATS_API_TIMEOUT_MS = 5_000;
/** Step-downs of a work consumer's leader, at most, to have it led by its stream's leader (see nats-consumer-alignment.ts). */
export const NATS_CONSUMER_ALIGN_ATTEMPTS = 6;
/**
 * After a sign of cluster trouble, deliveries of replicated work queues are checked against their
 * stream's leader for this long (see nats-delivery-verifier.ts): long enough for a restarted node
 * to catch up and for depth's leader check (every coordinator sample) to align a moved consumer.
 */
export const NATS_DELIVERY_VERIFY_WINDOW_MS = 120_000;
/**
 * A delivery whose stream leader could not be asked (an election under way) is asked about again
 * this often, its ack wait renewed meanwhile (see nats-delivery-verifier.ts) ...
 */
export const NATS_DELIVERY_RECHECK_MS = 500;
/** ... for at most this long; then it is released, which spends one of its attempts. */
export const NATS_DELIVERY_UNVERIFIED_HOLD_MS = 30_000;
/** How often a consumer without a leader (just after a step-down) is asked for its new one. */
export const NATS_LEADER_POLL_MS = 100;
/** Reconnect forever, waiting this long between attempts (plus jitter). */
export const NATS_RECONNECT_TIME_WAIT_MS = 1_000;
export const NATS_RECONNECT_JITTER_MS = 500;
/**
 * With several servers, the client pings its server this often and drops the connection when
 * NATS_CLUSTER_MAX_PINGS_OUT pings are unanswered, then moves to another server: a node cut off by
 * a network partition sends no reset, and nats.js's default (2 min) would keep publishing into it.
 */
export const NATS_CLUSTER_PING_INTERVAL_MS = 2_000;
export const NATS_CLUSTER_MAX_PINGS_OUT = 2;
/** After a reconnect, JetStream is asked this many times (NATS_RECONNECT_TIME_WAIT_MS apart) before status says degraded. */
export const NATS_JETSTREAM_RECOVERY_CHECKS = 30;
/** The first connect gives up after this long so start-up fails with a clear error instead of hanging. */
export const NATS_CONNECT_TIMEOUT_MS = 5_000;
/**
 * With several servers, a lost connection counts as down only after this long without a reconnect
 * to another server. nats.js tries the lost server first: one that a partition cut off answers
 * nothing, so the grace covers that attempt's connect timeout and a reconnect wait.
 */
export const NATS_CLUSTER_RECONNECT_GRACE_MS = NATS_CONNECT_TIMEOUT_MS + NATS_RECONNECT_TIME_WAIT_MS;
/** JetStream requires at least two minutes of duplicate window for the publish guarantee we document. */
export const NATS_MIN_DUPLICATE_WINDOW_MS = 120_000;
/**
 * Room for the envelope around the payload (id, domain, deadline, headers, idempotency key): the
 * stream's max message size is maxPayloadBytes plus this.
 */
export const NATS_ENVELOPE_OVERHEAD_BYTES = 64 * 1024;
/** Settles are refused this long before the lease lapses, so a settle in flight never lands on a redelivered item. */
export const NATS_LEASE_SAFETY_MARGIN_MS = 250;
/** A waiting pull rechecks the queues at least this often (nak-delayed items become ready without a publish). */
export const NATS_PULL_RECHECK_MS = 500;
/** Default of releaseIdleAfterMs: a queue's feed (its subscription) nobody used for this long is closed; the next pull opens it again. */
export const NATS_RELEASE_IDLE_AFTER_MS = 60_000;
/** Idle feeds are looked for at most this far apart. */
export const NATS_IDLE_CHECK_MS = 5_000;
/** A standing pull request (NatsFeed) expires after at most this long and is renewed while pulls wait. */
export const NATS_FEED_REQUEST_EXPIRES_MS = 2_000;
/** depth() asks for at most this many consumer infos at a time. */
export const NATS_DEPTH_CONCURRENCY = 32;
/** A no-wait pull request returns what it received after this long without the server's end of answer. */
export const NATS_PULL_ANSWER_TIMEOUT_MS = 2_000;
/**
 * Past that timeout the client listens this long more for the rest of the answer (a server frozen
 * mid-answer sends it on resuming) and hands it to the next pull; what comes later waits for the
 * consumer's ack wait.
 */
export const NATS_LATE_ANSWER_LISTEN_MS = 60_000;
/** Dead letters are kept this long at most (limits retention); purge them earlier through the API. */
export const NATS_DEAD_LETTER_MAX_AGE_MS = 30 * 24 * 60 * 60 * 1_000;
/** Max-deliveries advisories are kept this long for the sweeper to process. */
export const NATS_ADVISORY_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1_000;
/** Advisories one sweep processes at most; the next sweep continues. */
export const NATS_SWEEP_BATCH = 256;
/** Dead letters a listing filtered by reason reads per pull request. */
export const NATS_DEAD_LETTER_READ_BATCH = 256;
/** The server deletes a dead-letter reader (an ephemeral consumer) idle this long, should its lister not. */
export const NATS_DEAD_LETTER_READER_INACTIVE_MS = 30_000;
/** Retry-After given with QueueFullError when the stream refuses for lack of room. */
export const NATS_QUEUE_FULL_RETRY_AFTER_MS = 1_000;
/** The schedule leader renews its lease this many times per lease, so one lost renewal does not cost it. */
export const NATS_LEADER_RENEWALS_PER_LEASE = 3;
/** A leader steps down this long before its record can expire; followers try this long after it does. */
export const NATS_LEADER_SAFETY_MARGIN_MS = 100;
/** Shortest wait between two leadership attempts. */
export const NATS_LEADER_MIN_RETRY_MS = 50;
/** A retry delayed this long or longer waits in the delay stream instead of as a delayed NAK (NatsConnectionOptions.delayStreamMinMs). */
export const NATS_DEFAULT_DELAY_STREAM_MIN_MS = 5_000;
/** The delay consumer's ack wait: the mover settles each message it receives at once. */
export const NATS_DELAY_ACK_WAIT_MS = 30_000;
/** Delayed items the mover holds at once; it naks or moves each as it arrives. */
export const NATS_DELAY_MOVER_BATCH = 256;
/** A due item its queue refused (full, unavailable) is offered again after this long. */
export const NATS_DELAY_REQUEUE_RETRY_MS = 1_000;
/** After the mover's consume loop ended (connection lost, consumer deleted) it starts again after this long. */
export const NATS_DELAY_MOVER_RESTART_MS = 1_000;
/** Header of a moved-back item: the attempts it had made before this copy, added to JetStream's delivery count. */
export const NATS_ATTEMPTS_HEADER = 'Kanban-Attempts';
/** Header of a delayed item: epoch ms from which it goes back to its queue. */
export const NATS_DUE_AT_HEADER = 'Kanban-Due-At';
/** Run-time group limits are read again after this long, so the fleet applies a change within it. */
export const NATS_GROUP_LIMITS_REFRESH_MS = 500;
/** Run-time group limits read at once when a domain's are loaded. */
export const NATS_GROUP_LIMITS_READ_CONCURRENCY = 16;
/** The group mover's pass over the groups with a backlog, run by one instance of the fleet. */
export const NATS_GROUP_MOVER_INTERVAL_MS = 300;
/** The group mover's leadership lease: a dead mover's pass is taken over within it. */
export const NATS_GROUP_MOVER_LEASE_MS = 3_000;
/** Groups one instance moves at once during a pass. */
export const NATS_GROUP_MOVER_CONCURRENCY = 16;
/** A publish that lost the race for a free slot this many times in a row goes to the backlog. */
export const NATS_GROUP_SLOT_ATTEMPTS = 4;
/** Compare-and-set attempts on a group's rate record before the take counts as not due yet. */
export const NATS_GROUP_RATE_CAS_ATTEMPTS = 4;
/** After a take lost every compare-and-set (instances taking at once), the mover tries again after this long. */
export const NATS_GROUP_RATE_CONTENDED_RETRY_MS = 10;
/**
 * A take at most this many intervals after the due time keeps the schedule (the next is due one
 * interval after the previous due time, not after the take), so hand-outs never run ahead of a
 * schedule one interval apart, and a mover woken late on a busy machine does not slow the rate by
 * its lateness. A take later than that (an idle group) starts a new schedule: one token at once.
 */
export const NATS_GROUP_RATE_LATENESS_CREDIT = 1;
/** A rate-limited group holds at most this long's worth of its rate in its queue (see groupWindow). */
export const NATS_GROUP_RATE_QUEUED_MS = 100;
/** ...and at least this many items (its window allowing). */
export const NATS_GROUP_RATE_MIN_SLOTS = 3;
/** Rate records are kept this long: longer than the interval of any rate above one a day. */
export const NATS_GROUP_RATE_RECORD_MAX_AGE_MS = 24 * 60 * 60 * 1_000;
