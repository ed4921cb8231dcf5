import { Logger } from '@nestjs/common';
import { DomainLimitError } from '../errors';

/**
 * The domains kanban has queues for, bounded by `maxDomains`: each costs the brokers streams,
 * consumers and queues that stay. Seeded once with the domains the broker already holds and fed
 * with every depth read after, so domains opened before a restart, or by other instances, count.
 */
export class DomainRegistry {
  private readonly logger = new Logger(DomainRegistry.name);
  private readonly known = new Set<string>();
  private seeding?: Promise<void>;

  constructor(
    private readonly maxDomains: number,
    private readonly readBrokerDomains: () => Promise<readonly string[]>,
  ) {}

  /** Counts domains seen on the broker; they are served even beyond the limit, which bounds new ones only. */
  observe(domains: Iterable<string>): void {
    for (const domain of domains) this.known.add(domain);
  }

  /** @throws DomainLimitError when `domain` is new and the limit is reached. */
  async admit(domain: string): Promise<void> {
    if (this.known.has(domain)) return;
    await this.seed();
    if (this.known.has(domain)) return;
    if (this.known.size >= this.maxDomains) throw new DomainLimitError(domain, this.maxDomains);
    this.known.add(domain);
  }

  /** Once: a broker that cannot answer now is counted from later depth reads instead of delaying every new domain. */
  private seed(): Promise<void> {
    this.seeding ??= this.readBrokerDomains().then(
      (domains) => this.observe(domains),
      (error: unknown) => this.logger.warn(`Domains on the broker not read (${(error as Error).message}); counting those opened here until the next depth sample`),
    );
    return this.seeding;
  }
}
