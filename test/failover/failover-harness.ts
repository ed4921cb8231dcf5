import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import type { TransportSettings } from '../../libs/kanban/src/transport';
import { FailoverTransport, OutboxStore, type FailoverOptions } from '../../libs/kanban/src/transports/failover';
import type { NatsTransport } from '../../libs/kanban/src/transports/nats';
import type { RabbitMqTransport } from '../../libs/kanban/src/transports/rabbitmq';
import type { ContractHarness } from '../contract/transport-contract';
import { createNatsHarness } from '../nats/nats-harness';
import { createRabbitMqHarness } from '../rabbitmq/rabbitmq-test-harness';

/** What a failover transport of the harness is made of. */
export interface FailoverParts {
  nats: NatsTransport;
  rabbitmq: RabbitMqTransport;
  outbox: OutboxStore;
}

export interface FailoverHarness extends ContractHarness {
  create(settings: TransportSettings, options?: FailoverOptions): Promise<FailoverTransport>;
  reopen(transport: FailoverTransport, settings: TransportSettings): Promise<FailoverTransport>;
  partsOf(transport: FailoverTransport): FailoverParts;
  /** The stream prefix of the transport's NATS part. */
  natsPrefixOf(transport: FailoverTransport): string;
  /** A plain NATS client on the run's server, closed by cleanup. */
  rawNatsClient(): Promise<NatsConnection>;
  /** Closes the admin connections; for afterAll. */
  dispose(): Promise<void>;
}

/**
 * Failover transports on the run's NATS and RabbitMQ, each on a namespace of its own (stream and
 * queue prefixes from the NATS and RabbitMQ harnesses) with an outbox file in a temp dir; cleanup
 * closes them and deletes what they declared.
 */
export function createFailoverHarness(): FailoverHarness {
  const nats = createNatsHarness();
  const rabbitmq = createRabbitMqHarness();
  const parts = new Map<FailoverTransport, FailoverParts>();
  const dirs: string[] = [];

  const assemble = async (pieces: FailoverParts, options?: FailoverOptions): Promise<FailoverTransport> => {
    const transport = new FailoverTransport(pieces.nats, pieces.rabbitmq, pieces.outbox, options);
    parts.set(transport, pieces);
    await transport.connect();
    return transport;
  };
  const partsOf = (transport: FailoverTransport): FailoverParts => {
    const pieces = parts.get(transport);
    if (!pieces) throw new Error('transport was not created by this harness');
    return pieces;
  };

  return {
    partsOf,
    natsPrefixOf: (transport) => nats.prefixOf(partsOf(transport).nats),
    rawNatsClient: () => nats.rawClient(),
    async create(settings, options) {
      const dir = mkdtempSync(join(tmpdir(), 'kanban-failover-'));
      dirs.push(dir);
      const pieces = { nats: await nats.create(settings), rabbitmq: await rabbitmq.create(settings), outbox: new OutboxStore({ path: join(dir, 'outbox.db') }) };
      return assemble(pieces, options);
    },
    async peer(transport, settings) {
      const first = partsOf(transport as FailoverTransport);
      const dir = mkdtempSync(join(tmpdir(), 'kanban-failover-'));
      dirs.push(dir);
      const pieces = { nats: await nats.sibling(first.nats, settings), rabbitmq: rabbitmq.sibling(first.rabbitmq, settings), outbox: new OutboxStore({ path: join(dir, 'outbox.db') }) };
      return assemble(pieces);
    },
    async reopen(transport, settings) {
      const old = partsOf(transport);
      await transport.close();
      const pieces = { nats: await nats.sibling(old.nats, settings), rabbitmq: rabbitmq.sibling(old.rabbitmq, settings), outbox: new OutboxStore({ path: old.outbox.path }) };
      return assemble(pieces);
    },
    // A foreign publisher writes to the primary's subjects.
    injectRaw: (transport, priority, domain, bytes) => nats.injectRaw(partsOf(transport as FailoverTransport).nats, priority, domain, bytes),
    async cleanup() {
      await Promise.all([...parts.keys()].map((transport) => transport.close()));
      parts.clear();
      await nats.cleanup();
      await rabbitmq.cleanup();
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
    dispose: () => rabbitmq.dispose(),
  };
}
