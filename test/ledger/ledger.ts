import { performance } from 'node:perf_hooks';

/** The figures a chaos test prints and asserts on. */
export interface LedgerSummary {
  /** Publishes tried. */
  attempted: number;
  /** Publishes that resolved with a receipt. */
  acknowledged: number;
  /** Acknowledged publishes by the broker the receipt named. */
  byBroker: Record<string, number>;
  /** Publishes that rejected. */
  rejected: number;
  /** Keys processed at least once. */
  processed: number;
  /** Every processing, repeats included. */
  processings: number;
  /** Keys dead-lettered at least once. */
  deadLettered: number;
  /** Acknowledged keys dead-lettered at least once (processed or not): zero wherever a scenario does not dead-letter on purpose. */
  acknowledgedDeadLettered: number;
  /** Processings beyond the first of each key. */
  duplicates: number;
  /** Acknowledged, yet neither processed nor dead-lettered. */
  lost: number;
  /** Processed or dead-lettered, yet never attempted. */
  unexpected: number;
  /** Processed or dead-lettered although the publish was not acknowledged (it rejected or never resolved). */
  recovered: number;
}

/**
 * Jepsen-style bookkeeping for chaos tests: publish attempts, acknowledged publishes (with the
 * broker of the receipt), every processing (with its attempt) and every dead letter. Keys are chosen
 * by the test and travel in the payload, so an item is recognised whichever id or broker holds it.
 * Acknowledged keys not yet processed nor dead-lettered are `outstanding` while work drains and
 * `lost` once it has drained.
 */
export class Ledger {
  private readonly attempts = new Set<string>();
  private readonly receipts = new Map<string, string>();
  private readonly rejections = new Map<string, string>();
  private readonly processings = new Map<string, number[]>();
  private readonly firstProcessedAt = new Map<string, number>();
  private readonly deadLetters = new Map<string, string[]>();

  attempt(key: string): void {
    this.attempts.add(key);
  }

  acknowledge(key: string, broker: string): void {
    this.receipts.set(key, broker);
  }

  reject(key: string, error: string): void {
    this.rejections.set(key, error);
  }

  process(key: string, attempt: number): void {
    const seen = this.processings.get(key);
    if (seen) seen.push(attempt);
    else {
      this.processings.set(key, [attempt]);
      this.firstProcessedAt.set(key, performance.now());
    }
  }

  deadLetter(key: string, reason: string): void {
    const seen = this.deadLetters.get(key);
    if (seen) seen.push(reason);
    else this.deadLetters.set(key, [reason]);
  }

  get acknowledgedCount(): number {
    return this.receipts.size;
  }

  /** The broker the key's receipt named. */
  brokerOf(key: string): string | undefined {
    return this.receipts.get(key);
  }

  /** Keys processed more than once. */
  duplicatedKeys(): string[] {
    return [...this.processings].filter(([, attempts]) => attempts.length > 1).map(([key]) => key);
  }

  /** performance.now() of the key's first processing. */
  firstProcessedAtOf(key: string): number | undefined {
    return this.firstProcessedAt.get(key);
  }

  /** Attempt numbers of each processing of the key, in order. */
  attemptsOf(key: string): number[] {
    return [...(this.processings.get(key) ?? [])];
  }

  deadLetterReasonsOf(key: string): string[] {
    return [...(this.deadLetters.get(key) ?? [])];
  }

  /**
   * Acknowledged keys dead-lettered at least once, whether or not they were also processed. `lost`
   * counts a dead-lettered key as accounted for; where nothing is meant to fail this must be empty,
   * so that processed == acknowledged.
   */
  acknowledgedDeadLettered(): string[] {
    return [...this.deadLetters.keys()].filter((key) => this.receipts.has(key));
  }

  /** Acknowledged keys neither processed nor dead-lettered yet. */
  outstanding(): string[] {
    return [...this.receipts.keys()].filter((key) => !this.processings.has(key) && !this.deadLetters.has(key));
  }

  /** Acknowledged keys neither processed nor dead-lettered: `outstanding`, named for after the drain. */
  lost(): string[] {
    return this.outstanding();
  }

  unexpected(): string[] {
    return this.handled().filter((key) => !this.attempts.has(key));
  }

  recovered(): string[] {
    return this.handled().filter((key) => this.attempts.has(key) && !this.receipts.has(key));
  }

  /** Extra processings per broker of the key's receipt (`none` when its publish was not acknowledged): where duplicates came from. */
  duplicatesByBroker(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [key, attempts] of this.processings) {
      if (attempts.length < 2) continue;
      const broker = this.receipts.get(key) ?? 'none';
      counts[broker] = (counts[broker] ?? 0) + attempts.length - 1;
    }
    return counts;
  }

  /**
   * Processings that repeat an attempt number already seen for their key: a second copy of the item
   * (stored twice), or a broker that lost its delivery count. The other duplicates are redeliveries.
   */
  repeatedAttempts(): number {
    let repeats = 0;
    for (const attempts of this.processings.values()) repeats += attempts.length - new Set(attempts).size;
    return repeats;
  }

  duplicates(): number {
    let extra = 0;
    for (const attempts of this.processings.values()) extra += attempts.length - 1;
    return extra;
  }

  summary(): LedgerSummary {
    const byBroker: Record<string, number> = {};
    for (const broker of this.receipts.values()) byBroker[broker] = (byBroker[broker] ?? 0) + 1;
    let processings = 0;
    for (const attempts of this.processings.values()) processings += attempts.length;
    return {
      attempted: this.attempts.size,
      acknowledged: this.receipts.size,
      byBroker,
      rejected: this.rejections.size,
      processed: this.processings.size,
      processings,
      deadLettered: this.deadLetters.size,
      acknowledgedDeadLettered: this.acknowledgedDeadLettered().length,
      duplicates: this.duplicates(),
      lost: this.lost().length,
      unexpected: this.unexpected().length,
      recovered: this.recovered().length,
    };
  }

  /** One line: `label: attempted=… acknowledged=… (nats=…) … lost=… key=value…` with `extra` appended. */
  line(label: string, extra: Record<string, string | number> = {}): string {
    const { byBroker, ...figures } = this.summary();
    const brokers = Object.entries(byBroker)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([broker, count]) => `${broker}=${count}`)
      .join(' ');
    const fields = Object.entries({ ...figures, ...extra }).map(([name, value]) => `${name}=${value}`);
    return `${label}: ${fields.join(' ')}${brokers ? ` receipts[${brokers}]` : ''}`;
  }

  private handled(): string[] {
    return [...new Set([...this.processings.keys(), ...this.deadLetters.keys()])];
  }
}
