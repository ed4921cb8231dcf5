import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KanbanModuleOptions } from '@tps/kanban';
import { natsBroker, rabbitmqBroker, testNamespace, type TestNamespace } from '../harness';
import { TRANSPORTS, createKanbanTestApp, inFuture, type KanbanTestApp, type TransportKind } from './support/kanban-test-app';

const MAX_DOMAINS = 3;

/** Options on `kind` under a namespace of its own, so only this test's domains are on the broker. */
function isolated(kind: TransportKind, ns: TestNamespace): KanbanModuleOptions {
  const base: KanbanModuleOptions = { maxDomains: MAX_DOMAINS, startWorkers: false, coordinatorCheckIntervalMs: 600_000 };
  if (kind === 'nats') return { ...base, nats: { servers: [natsBroker().url], streamPrefix: ns.streamPrefix } };
  if (kind === 'rabbitmq') return { ...base, rabbitmq: { url: rabbitmqBroker().url, queuePrefix: ns.queuePrefix } };
  return base;
}

function publishTo(app: KanbanTestApp, domain: string) {
  return app.queue.publish({ priority: 'normal', domain, payload: { domain }, deadline: inFuture() });
}

/**
 * Each domain costs the brokers streams, consumers and queues: `maxDomains` bounds how many a
 * kanban process opens, and a new domain beyond it is refused before anything is declared for it.
 */
describe.each(TRANSPORTS)('domain limit (%s)', (transport) => {
  let app: KanbanTestApp;
  let ns: TestNamespace;

  beforeEach(() => {
    ns = testNamespace();
  });

  afterEach(async () => {
    await app?.close();
  });

  it('refuses publishes and pulls that would open a domain past maxDomains, and keeps serving the others', async () => {
    // Arrange
    app = await createKanbanTestApp({ transport, options: isolated(transport, ns) });
    const domains = Array.from({ length: MAX_DOMAINS }, (_, i) => ns.domain(`d${i}`));
    for (const domain of domains) await publishTo(app, domain);

    // Act
    const publish = publishTo(app, ns.domain('extra'));
    const pull = app.queue.pull({ domain: ns.domain('other'), priority: 'high' });
    const domainPull = app.queue.pull({ domain: ns.domain('other') });

    // Assert
    await expect(publish).rejects.toMatchObject({ name: 'DomainLimitError', domain: ns.domain('extra'), maxDomains: MAX_DOMAINS });
    await expect(pull).rejects.toMatchObject({ name: 'DomainLimitError' });
    await expect(domainPull).rejects.toMatchObject({ name: 'DomainLimitError' });
    await expect(publishTo(app, domains[0])).resolves.toMatchObject({ id: expect.any(String) });
    const opened = new Set((await app.queue.depth()).map((q) => q.domain));
    expect([...opened].sort()).toEqual([...domains].sort());
  });

  it('admits one domain once under concurrent first publishes', async () => {
    // Arrange
    app = await createKanbanTestApp({ transport, options: isolated(transport, ns) });
    const candidates = Array.from({ length: MAX_DOMAINS + 3 }, (_, i) => ns.domain(`c${i}`));

    // Act
    const results = await Promise.allSettled(candidates.flatMap((domain) => [publishTo(app, domain), publishTo(app, domain)]));

    // Assert
    const admitted = new Set(candidates.filter((_, i) => results[2 * i].status === 'fulfilled' && results[2 * i + 1].status === 'fulfilled'));
    const refused = candidates.filter((_, i) => results[2 * i].status === 'rejected' && results[2 * i + 1].status === 'rejected');
    expect(admitted.size).toBe(MAX_DOMAINS);
    expect(refused).toHaveLength(candidates.length - MAX_DOMAINS);
  });

  if (transport !== 'rabbitmq') {
    it('counts the domains already on the broker after a restart', async () => {
      // Arrange
      const dir = mkdtempSync(join(tmpdir(), 'kanban-domain-limit-'));
      const options = isolated(transport, ns);
      const dbPath = join(dir, 'kanban.db');
      const first = await createKanbanTestApp({ transport, options, dbPath });
      await publishTo(first, ns.domain('old0'));
      await publishTo(first, ns.domain('old1'));
      await first.close();

      try {
        // Act
        app = await createKanbanTestApp({ transport, options, dbPath });
        const third = await publishTo(app, ns.domain('new0'));
        const fourth = publishTo(app, ns.domain('new1'));

        // Assert
        expect(third).toMatchObject({ id: expect.any(String) });
        await expect(fourth).rejects.toMatchObject({ name: 'DomainLimitError' });
        await expect(publishTo(app, ns.domain('old1'))).resolves.toMatchObject({ id: expect.any(String) });
      } finally {
        await app.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
