/**
 * Values a handler throws or returns to choose how its item is settled instead of the default
 * (resolve = ack, throw = retry with backoff until maxAttempts).
 */
export class KanbanNack extends Error {
  /** @param reason stored as the dead letter's error */
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'KanbanNack';
  }
}

export class KanbanRetry extends Error {
  /** @param delayMs delay before the next attempt; the attempt still counts toward maxAttempts */
  constructor(readonly delayMs: number) {
    super(`retry in ${delayMs} ms`);
    this.name = 'KanbanRetry';
  }
}
