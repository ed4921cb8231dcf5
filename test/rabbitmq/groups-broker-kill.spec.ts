import { RabbitMqNames } from '../../libs/kanban/src/transports/rabbitmq/rabbitmq-names';
import { testNamespace, waitFor } from '../harness';
import { kill9 } from '../harness/local-process';
import { persistedRaNames, raServerName, relaunchLocalRabbitMq } from '../harness/local-rabbitmq';
import { QUEUE_DRAIN_TIMEOUT_MS, busyRows } from '../chaos/support/queue-drain';
import { GROUPED_KILL, KillLedger } from '../chaos/support/kill-ledger';
import { privateNodeTransports, privateRabbitMqNode } from './support/private-rabbitmq-node';

/** Ra saves its directory of queue names once left alone for 500 ms; this is plenty. */
const RA_NAMES_SAVED_TIMEOUT_MS = 15_000;

/** kill -9 of the node while grouped items are published, buffered by the grouped queue's consumer and leased; on a node of its own. */
describe('RabbitMQ groups: kill -9 of the node', () => {
  const node = privateRabbitMqNode();
  const transports = privateNodeTransports(node);

  it('keeps every grouped item whose publish resolved: each is handed out and acked, none lost, the grouped queue empty after the restart', async () => {
    // Arrange
    const local = node();
    const prefix = testNamespace().queuePrefix;
    const names = new RabbitMqNames(prefix);
    const transport = transports.build(prefix, KillLedger.settings, { publishTimeoutMs: GROUPED_KILL.publishTimeoutMs });
    const domain = testNamespace().domain('groupkill');
    const run = new KillLedger(transport, domain);
    try {
      await transport.connect();
      await transport.ensureQueue('normal', domain);
      // Capped groups: the kill finds some of them at their cap with the rest buffered.
      await run.capGroups();
      // A quorum queue whose Ra name was not saved comes back without a leader after a kill -9 (see the RabbitMQ README).
      const raNames = [names.workQueue('normal', domain), names.groupQueue('normal', domain), names.intakeQueue, names.delayDueQueue].map(raServerName);
      await waitFor(
        async () => {
          const saved = await persistedRaNames(local);
          return raNames.every((name) => saved.includes(name));
        },
        { timeoutMs: RA_NAMES_SAVED_TIMEOUT_MS, intervalMs: 200, description: 'Ra to save the queue names' },
      );
      run.startWorkers();

      // Act
      const inFlightAtKill = await run.publishThrough({
        kill: () => kill9(local.pid),
        restart: async () => {
          local.pid = await relaunchLocalRabbitMq(local);
        },
      });
      await waitFor(() => transport.currentStatus.state === 'up', { timeoutMs: 60_000, intervalMs: 100, description: 'the transport to reconnect' });
      // Drained without reading dead letters: RabbitMQ 3.10 may not bring a stream declared shortly before a kill -9 back (see the
      // README), and every acknowledged item must be processed here anyway (none may end as a dead letter).
      await waitFor(async () => run.ledger.outstanding().length === 0 && (await busyRows(transport, domain)).length === 0, {
        timeoutMs: QUEUE_DRAIN_TIMEOUT_MS,
        intervalMs: 250,
        description: 'every acknowledged item processed and the queues empty',
      });
      await run.stopWorkers();

      // Assert
      await run.expectNoneLost('RabbitMQ groups: kill -9 of the node', inFlightAtKill);
      expect((await transport.listGroups(domain, { limit: 1_000 })).items.filter((group) => group.ready + group.inFlight > 0)).toEqual([]);
    } finally {
      await run.stopWorkers();
    }
  }, 240_000);
});
