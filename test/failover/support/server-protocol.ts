/**
 * Lines the server child process writes on stdout (logs go to stderr). A pipe write is synchronous
 * on Linux: once written, the parent has the line even if the child is killed next.
 */
export const SERVER_LINES = {
  ready: 'ready',
  /** `started <key> <attempt>`: the handler began an item. */
  started: 'started',
  /** `processed <key> <attempt>`: the handler finished an item (its ack follows). */
  processed: 'processed',
  /** `attempt <key>`: a publish is about to be tried. */
  attempt: 'attempt',
  /** `ack <key> <broker>`: the publish resolved with a receipt from `broker`. */
  ack: 'ack',
  /** `reject <key> <error name>` */
  reject: 'reject',
  /** `published <count>`: a publish command finished. */
  published: 'published',
  /** The app closed after SIGTERM; the process exits 0 next. */
  closed: 'closed',
} as const;

/** The one command the parent sends on stdin, one JSON per line: publish `count` items keyed `<prefix>-<n>`. */
export interface PublishCommand {
  prefix: string;
  count: number;
}

/** What the server is started with (JSON in argv[2]). */
export interface ServerConfig {
  natsUrl: string;
  rabbitmqUrl: string;
  streamPrefix: string;
  queuePrefix: string;
  /** The embedded store's file: the outbox. */
  dbPath: string;
  domain: string;
  handlerDelayMs: number;
  /** Overrides the chaos options' workerPullSize. */
  workerPullSize?: number;
}
