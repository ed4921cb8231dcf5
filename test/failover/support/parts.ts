import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TransportSettings } from '../../../libs/kanban/src/transport';
import { FailoverTransport, OutboxStore } from '../../../libs/kanban/src/transports/failover';
import { NatsTransport } from '../../../libs/kanban/src/transports/nats';
import { RabbitMqTransport } from '../../../libs/kanban/src/transports/rabbitmq';
import { freePort, type TestNamespace } from '../../harness';

/** A URL on a loopback port nobody listens on: a broker that is down. */
export async function unreachable(scheme: 'nats' | 'amqp'): Promise<string> {
  const port = await freePort();
  return scheme === 'nats' ? `nats://127.0.0.1:${port}` : `amqp://guest:guest@127.0.0.1:${port}`;
}

/** A fresh temp dir for outbox files; the caller removes it. */
export function outboxDir(): string {
  return mkdtempSync(join(tmpdir(), 'kanban-failover-'));
}

/** A failover transport (not connected) on the given URLs, the namespace's prefixes and an outbox file. */
export function failoverOn(urls: { nats: string; rabbitmq: string; outboxPath: string }, namespace: TestNamespace, settings: TransportSettings): FailoverTransport {
  const { outboxPath } = urls;
  return new FailoverTransport(
    new NatsTransport({ servers: [urls.nats], streamPrefix: namespace.streamPrefix }, settings),
    new RabbitMqTransport({ url: urls.rabbitmq, queuePrefix: namespace.queuePrefix }, settings),
    new OutboxStore({ path: outboxPath }),
  );
}
