import { RabbitMqNames } from '../../libs/kanban/src/transports/rabbitmq/rabbitmq-names';
import { freePort, itControllingBrokers, rabbitmqBroker, rabbitmqCluster, testNamespace, waitFor } from '../harness';
import { drainQueue } from '../chaos/support/queue-drain';
import { CHAOS_MODULE_OPTIONS } from '../failover/support/chaos-options';
import { ledgerConsumer } from '../failover/support/ledger-consumer';
import { SteadyPublisher } from '../failover/support/steady-publisher';
import { createKanbanTestApp } from '../library/support/kanban-test-app';
import { Ledger } from '../ledger/ledger';
import { quorumQueueInfo } from './support/quorum-queue';

const PUBLISH_RATE_PER_SECOND = 200;
const MAX_PUBLISHES_IN_FLIGHT = 200;
const CLUSTER_SIZE = 3;
/** Cluster start-up and join (once per run), a leader election and a drain, with room for a loaded machine. */
const CLUSTER_TEST_TIMEOUT_MS = 240_000;

describe('RabbitMQ node list', () => {
  it('connects to the next node of a comma list when the first refuses', async () => {
    // Arrange
    const refusing = `amqp://guest:guest@127.0.0.1:${await freePort()}`;
    const namespace = testNamespace();

    // Act
    const app = await createKanbanTestApp({ transport: 'rabbitmq', options: { rabbitmq: { url: `${refusing},${rabbitmqBroker().url}`, queuePrefix: namespace.queuePrefix } } });
    try {
      const receipt = await app.queue.publish({ priority: 'normal', domain: namespace.domain('nodelist'), payload: { key: 'one' }, deadlineMs: 60_000 });

      // Assert
      expect(receipt.broker).toBe('rabbitmq');
      expect(app.logs.some((line) => line.includes(`RabbitMQ connected to ${rabbitmqBroker().url.replace(/\/\/([^:]+):[^@]*@/, '//$1:***@')}`))).toBe(true);
    } finally {
      await app.close();
    }
  });
});

describe('RabbitMQ cluster: three nodes, quorum queues', () => {
  beforeAll(() => rabbitmqCluster().start(), CLUSTER_TEST_TIMEOUT_MS);

  afterEach(async () => {
    // Together: a node of a cluster without quorum is not ready until the others are back too.
    const stopped = rabbitmqCluster().nodes.filter((node) => !rabbitmqCluster().isRunning(node.name));
    await Promise.all(stopped.map((node) => rabbitmqCluster().restart(node.name)));
  }, CLUSTER_TEST_TIMEOUT_MS);

  itControllingBrokers('rabbitmq')(
    "kill -9 of the work queue leader's node under load: the queue has three members, the client reconnects to a surviving node, no acknowledged item is lost",
    async () => {
      // Arrange
      const items = 3_000;
      const namespace = testNamespace();
      const domain = namespace.domain('rmqleader');
      const queue = new RabbitMqNames(namespace.queuePrefix).workQueue('normal', domain);
      const ledger = new Ledger();
      const app = await createKanbanTestApp({
        transport: 'rabbitmq',
        providers: [ledgerConsumer(domain, (key, attempt) => ledger.process(key, attempt))],
        options: { ...CHAOS_MODULE_OPTIONS, rabbitmq: { url: rabbitmqCluster().urls.join(','), queuePrefix: namespace.queuePrefix } },
      });
      const publisher = new SteadyPublisher(ledger, (key) => app.queue.publish({ priority: 'normal', domain, payload: { key }, deadlineMs: 600_000 }), {
        count: items,
        ratePerSecond: PUBLISH_RATE_PER_SECOND,
        maxInFlight: MAX_PUBLISHES_IN_FLIGHT,
        keyPrefix: 'rmqleader',
      });
      try {
        // Act
        const publishing = publisher.run();
        await waitFor(() => publisher.launched >= 1_000, { timeoutMs: 60_000, description: '1000 publishes launched' });
        const before = await quorumQueueInfo(queue);
        await rabbitmqCluster().kill9(before.leader);
        await waitFor(() => publisher.launched >= 2_000, { timeoutMs: 60_000, description: '2000 publishes launched' });
        await rabbitmqCluster().restart(before.leader);
        await publishing;
        await drainQueue(app.queue, domain, ledger);

        // Assert
        const summary = ledger.summary();
        const connections = app.logs.filter((line) => line.includes('RabbitMQ connected to'));
        console.log(
          ledger.line("RabbitMQ cluster: kill -9 of the queue leader's node", {
            items,
            killed: before.leader,
            members: before.members.length,
            connections: connections.length,
            repeatedAttempts: ledger.repeatedAttempts(),
          }),
        );
        expect(before.members).toHaveLength(CLUSTER_SIZE);
        expect(summary).toMatchObject({ attempted: items, acknowledgedDeadLettered: 0, lost: 0, unexpected: 0 });
        expect(summary.acknowledged).toBeGreaterThan(0);
        // Processed are the acknowledged keys plus any whose publish failed at the kill yet reached the queue.
        expect(summary.processed).toBe(summary.acknowledged + summary.recovered);
      } finally {
        publisher.stop();
        await app.close();
      }
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );
});
