import { jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { TopologyConflictError } from '../../libs/kanban/src/errors';
import { NatsTransport } from '../../libs/kanban/src/transports/nats';
import { contractSettings, makeItem } from '../contract/contract-helpers';
import { natsBroker, testNamespace } from '../harness';
import { createNatsHarness } from './nats-harness';

const harness = createNatsHarness();

describe('NATS: topology declared at start-up', () => {
  afterEach(() => harness.cleanup());

  it('finds its streams and consumers in place on a second start with the same settings', async () => {
    // Arrange
    const settings = contractSettings();
    const first = await harness.create(settings);
    const item = makeItem({ domain: testNamespace().domain('topo') });
    await first.publish(item);

    // Act
    const second = await harness.sibling(first, settings);
    const [delivery] = await second.pull({ domain: item.domain, priority: 'normal' }, 1, { leaseMs: 5_000, waitMs: 1_000 });

    // Assert
    expect(second.currentStatus.state).toBe('up');
    expect(delivery.id).toBe(item.id);
  });

  it("publishes without declaring the queue's consumer: after a cluster node is lost a consumer may elect its leader after its stream, and a publish must not wait for it", async () => {
    // Arrange: every JetStream consumer API request on the server is seen
    const transport = await harness.create(contractSettings());
    const item = makeItem({ domain: testNamespace().domain('pubonly') });
    const raw = await harness.rawClient();
    const consumerRequests: string[] = [];
    const watch = raw.subscribe('$JS.API.CONSUMER.>', {
      callback: (_error, message) => {
        consumerRequests.push(message.subject);
      },
    });
    await raw.flush();

    // Act
    await transport.publish(item);
    await raw.flush();

    // Assert
    watch.unsubscribe();
    expect(consumerRequests.filter((subject) => subject.includes(`_NORMAL_${item.domain}`))).toEqual([]);
  });

  it('refuses a queue whose stream exists with another retention, saying what conflicts', async () => {
    // Arrange
    const transport = await harness.create(contractSettings());
    const domain = testNamespace().domain('conflict');
    const jsm = await jetstreamManager(await harness.rawClient());
    await jsm.streams.add({ name: `${harness.prefixOf(transport)}_HIGH_${domain}`, subjects: [`kanban.high.${domain}`], retention: RetentionPolicy.Limits, storage: StorageType.File });

    // Act
    const declared = transport.ensureQueue('high', domain);

    // Assert
    await expect(declared).rejects.toBeInstanceOf(TopologyConflictError);
    await expect(declared).rejects.toThrow(/retention is limits, kanban needs workqueue/);
  });

  it('refuses a queue whose subject another stream already captures', async () => {
    // Arrange
    const transport = await harness.create(contractSettings());
    const ns = testNamespace();
    const domain = ns.domain('captured');
    const jsm = await jetstreamManager(await harness.rawClient());
    await jsm.streams.add({ name: `${harness.prefixOf(transport)}_FOREIGN`, subjects: [`kanban.low.${domain}`], storage: StorageType.Memory });

    // Act
    const published = transport.publish(makeItem({ priority: 'low', domain }));

    // Assert
    await expect(published).rejects.toBeInstanceOf(TopologyConflictError);
    await expect(published).rejects.toThrow(/already captured by another stream/);
  });

  it('refuses to start when its dead-letter stream exists with conflicting settings', async () => {
    // Arrange
    const prefix = testNamespace().streamPrefix;
    const jsm = await jetstreamManager(await harness.rawClient());
    await jsm.streams.add({ name: `${prefix}_DLQ`, subjects: [`${prefix.toLowerCase()}.dlq.>`], retention: RetentionPolicy.Workqueue, storage: StorageType.File });
    const transport = new NatsTransport({ servers: [natsBroker().url], streamPrefix: prefix }, contractSettings());

    // Act
    const connected = transport.connect();

    // Assert
    await expect(connected).rejects.toBeInstanceOf(TopologyConflictError);
    expect(transport.currentStatus.state).toBe('down');
    await jsm.streams.delete(`${prefix}_DLQ`);
    await transport.close();
  });
});
