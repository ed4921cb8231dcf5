import { Logger } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveKanbanOptions, transportSettingsFrom } from '../../../libs/kanban/src';
import { FailoverTransport, OutboxStore } from '../../../libs/kanban/src/transports/failover';
import { NatsTransport } from '../../../libs/kanban/src/transports/nats';
import { RabbitMqTransport } from '../../../libs/kanban/src/transports/rabbitmq';
import { natsBroker, rabbitmqBroker, type TestNamespace } from '../../harness';
import { CHAOS_MODULE_OPTIONS } from './chaos-options';
import type { ServerConfig } from './server-protocol';

/**
 * The test's own view of the brokers a server child process uses: the same namespace and settings,
 * a failover transport for depth and dead letters, and each broker's transport for publishing
 * straight to it. `config` starts servers on a store file in the observer's temp dir.
 */
export class Observer {
  readonly nats: NatsTransport;
  readonly rabbitmq: RabbitMqTransport;
  readonly failover: FailoverTransport;
  readonly config: ServerConfig;
  private readonly dir = mkdtempSync(join(tmpdir(), 'kanban-failover-chaos-'));

  constructor(namespace: TestNamespace, domain: string) {
    // The observer's connect and topology lines drown the report; warnings and errors still show.
    Logger.overrideLogger(['warn', 'error']);
    const settings = transportSettingsFrom(resolveKanbanOptions(CHAOS_MODULE_OPTIONS));
    this.nats = new NatsTransport({ servers: [natsBroker().url], streamPrefix: namespace.streamPrefix }, settings);
    this.rabbitmq = new RabbitMqTransport({ url: rabbitmqBroker().url, queuePrefix: namespace.queuePrefix }, settings);
    this.failover = new FailoverTransport(this.nats, this.rabbitmq, new OutboxStore({ path: join(this.dir, 'observer.db') }));
    this.config = {
      natsUrl: natsBroker().url,
      rabbitmqUrl: rabbitmqBroker().url,
      streamPrefix: namespace.streamPrefix,
      queuePrefix: namespace.queuePrefix,
      dbPath: join(this.dir, 'server.db'),
      domain,
      handlerDelayMs: 0,
    };
  }

  /** Connects and declares the domain's queue on both brokers (so the observer's RabbitMQ depth sees it). */
  async connect(): Promise<void> {
    await this.failover.connect();
    await this.nats.ensureQueue('normal', this.config.domain);
    await this.rabbitmq.ensureQueue('normal', this.config.domain);
  }

  /** Items in the server's outbox file, read while no server runs. */
  serverOutboxSize(): number {
    const store = new OutboxStore({ path: this.config.dbPath });
    store.open();
    try {
      return store.size;
    } finally {
      store.close();
    }
  }

  async close(): Promise<void> {
    await this.failover.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
