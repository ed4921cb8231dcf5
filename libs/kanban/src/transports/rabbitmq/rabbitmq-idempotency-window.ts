import type { PublishReceipt } from '../../interfaces';

interface Entry {
  id: string;
  /** Epoch ms of the publish that claimed the key. */
  at: number;
  /** Set while that publish waits for its confirm: a second publish with the key waits for the outcome. */
  pending?: Promise<void>;
}

/**
 * Idempotency keys per (domain, key) inside the dedup window, remembered by this transport instance.
 * RabbitMQ has no message deduplication of its own, and a broker-side marker written before the item
 * could outlive an item that was never stored, turning a retried publish into a lost one; so the
 * window lives here, and a publish through another process or after a restart is not folded.
 */
export class RabbitMqIdempotencyWindow {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly windowMs: number) {}

  /** Runs `publish` unless the key was claimed inside the window; then answers with the first item's id. */
  async publishOnce(domain: string, key: string, id: string, publish: () => Promise<void>): Promise<PublishReceipt> {
    const now = Date.now();
    this.prune(now);
    const name = `${domain}\u0000${key}`;
    for (;;) {
      const existing = this.entries.get(name);
      if (!existing || now - existing.at >= this.windowMs) break;
      const stored = await (existing.pending ?? Promise.resolve()).then(
        () => true,
        () => false,
      );
      if (stored) return { id: existing.id, broker: 'rabbitmq', duplicate: true };
    }
    const entry: Entry = { id, at: now };
    entry.pending = publish();
    this.entries.delete(name);
    this.entries.set(name, entry);
    try {
      await entry.pending;
      entry.pending = undefined;
    } catch (error) {
      if (this.entries.get(name) === entry) this.entries.delete(name);
      throw error;
    }
    return { id, broker: 'rabbitmq', duplicate: false };
  }

  private prune(now: number): void {
    for (const [name, entry] of this.entries) {
      if (now - entry.at < this.windowMs) break;
      if (!entry.pending) this.entries.delete(name);
    }
  }
}
