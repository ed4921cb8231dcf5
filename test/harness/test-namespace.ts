import { randomBytes } from 'node:crypto';

/** Names that keep one test file's streams, queues and domains apart from every other file's. */
export interface TestNamespace {
  /** 8 lowercase base-36 characters, unique per call. */
  id: string;
  /** For NatsConnectionOptions.streamPrefix: `KT_<id>`. */
  streamPrefix: string;
  /** For RabbitMQ queue / exchange names: `kt-<id>`. */
  queuePrefix: string;
  /** A valid kanban domain unique to this namespace: `<base>-<id>`. */
  domain(base: string): string;
}

/**
 * A fresh namespace for a test file (or a test). Subjects are `kanban.{priority}.{domain}` on every
 * broker, so suites sharing a broker stay apart through their domains as well as their prefixes.
 */
export function testNamespace(): TestNamespace {
  const id = BigInt(`0x${randomBytes(6).toString('hex')}`)
    .toString(36)
    .padStart(8, '0')
    .slice(-8);
  return {
    id,
    streamPrefix: `KT_${id}`,
    queuePrefix: `kt-${id}`,
    domain: (base: string) => {
      const domain = `${base}-${id}`;
      if (!/^[a-z][a-z0-9_-]{0,62}$/.test(domain)) throw new Error(`Test domain ${domain} is not a valid kanban domain: use a short lowercase base`);
      return domain;
    },
  };
}
