import { performance } from 'node:perf_hooks';
import { BrokerUnavailableError } from '../../libs/kanban/src/errors';
import { RABBITMQ_CLOSE_STEP_TIMEOUT_MS, RABBITMQ_CONSUME_TIMEOUT_MS, RABBITMQ_PULL_FILL_WINDOW_MS, RabbitMqTransport } from '../../libs/kanban/src/transports/rabbitmq';
import { RabbitMqNames } from '../../libs/kanban/src/transports/rabbitmq/rabbitmq-names';
import { LONG_LEASE_MS, contractSettings, makeItem } from '../contract/contract-helpers';
import { testNamespace, waitFor } from '../harness';
import { kill9 } from '../harness/local-process';
import { forgetRaName, raServerName, relaunchLocalRabbitMq } from '../harness/local-rabbitmq';
import { privateRabbitMqNode } from './support/private-rabbitmq-node';

const PUBLISH_TIMEOUT_MS = 1_000;
const PULL_WAIT_MS = 300;
/** How late a timer may fire on a loaded machine. */
const TIMER_SLACK_MS = 1_000;
const CLOSE_STEPS = 5;

/**
 * A quorum queue that comes back from a kill -9 without a leader (RabbitMQ 3.10 does this when Ra
 * had not yet saved the queue's server name: it starts an empty member that never elects itself).
 * The state is made deterministic by dropping the name from Ra's directory while the node is down.
 * The broker answers nothing on that queue: publishes, pulls and close must stay within their bounds,
 * and the transport must say which queue is broken instead of reporting 'up' and hanging.
 */
describe('RabbitMQ work queue without a leader', () => {
  const node = privateRabbitMqNode();

  it('bounds publishes by publishTimeoutMs and pulls by their wait, reports the queue as degraded, and keeps the other queues working', async () => {
    // Arrange
    const local = node();
    const prefix = testNamespace().queuePrefix;
    const queue = new RabbitMqNames(prefix).workQueue('normal', 'orders');
    const transport = new RabbitMqTransport({ url: `amqp://guest:guest@127.0.0.1:${local.port}`, queuePrefix: prefix, publishTimeoutMs: PUBLISH_TIMEOUT_MS }, contractSettings());
    let closedMs: number;
    let pullMs: number;
    let secondPullMs: number;
    let publishMs: number;
    let pulled: unknown;
    let secondPulled: unknown;
    let publishError: unknown;
    let degraded;
    let healthy: unknown;
    let healthyDepth: unknown;
    const other = makeItem({ domain: 'billing' });
    try {
      await transport.connect();
      await transport.ensureQueue('normal', 'orders');
      await transport.publish(makeItem());
      await kill9(local.pid);
      await forgetRaName(local, raServerName(queue));
      local.pid = await relaunchLocalRabbitMq(local);
      await waitFor(() => transport.currentStatus.state === 'up', { timeoutMs: 30_000, intervalMs: 10, description: 'the transport to reconnect' });
      // Declared after the restart, so Ra has its name: a queue that works.
      await transport.ensureQueue('normal', 'billing');

      // Act
      let startedAt = performance.now();
      pulled = await transport.pull({ domain: 'orders', priority: 'normal' }, 10, { leaseMs: LONG_LEASE_MS, waitMs: PULL_WAIT_MS });
      pullMs = performance.now() - startedAt;
      startedAt = performance.now();
      publishError = await transport.publish(makeItem()).catch((error: unknown) => error);
      publishMs = performance.now() - startedAt;
      degraded = await waitFor(() => (transport.currentStatus.state === 'degraded' ? transport.currentStatus : undefined), {
        timeoutMs: RABBITMQ_CONSUME_TIMEOUT_MS + TIMER_SLACK_MS,
        intervalMs: 10,
        description: 'the transport to report the queue that does not answer',
      });
      startedAt = performance.now();
      secondPulled = await transport.pull({ domain: 'orders', priority: 'normal' }, 10, { leaseMs: LONG_LEASE_MS, waitMs: PULL_WAIT_MS });
      secondPullMs = performance.now() - startedAt;
      await transport.publish(other);
      const [delivery] = await transport.pull({ domain: 'billing', priority: 'normal' }, 1, { leaseMs: LONG_LEASE_MS, waitMs: 5_000 });
      healthy = delivery?.id;
      if (delivery) await transport.ack(delivery);
      healthyDepth = (await transport.depth()).find((row) => row.domain === 'billing');
    } finally {
      const closingAt = performance.now();
      await transport.close();
      closedMs = performance.now() - closingAt;
    }

    // Assert
    process.stdout.write(
      `[rabbitmq leaderless queue] pull returned after ${Math.round(pullMs)} ms and ${Math.round(secondPullMs)} ms, ` +
        `publish failed after ${Math.round(publishMs)} ms, close took ${Math.round(closedMs)} ms; status: ${degraded?.detail}\n`,
    );
    const pullBound = Math.max(PULL_WAIT_MS, RABBITMQ_PULL_FILL_WINDOW_MS) + TIMER_SLACK_MS;
    expect(pulled).toEqual([]);
    expect(pullMs).toBeLessThan(pullBound);
    expect(secondPulled).toEqual([]);
    expect(secondPullMs).toBeLessThan(pullBound);
    expect(publishError).toBeInstanceOf(BrokerUnavailableError);
    expect(publishMs).toBeLessThan(PUBLISH_TIMEOUT_MS + TIMER_SLACK_MS);
    expect(degraded?.detail).toContain(queue);
    expect(degraded?.detail).toContain('did not answer basic.consume');
    expect(healthy).toBe(other.id);
    expect(healthyDepth).toEqual({ broker: 'rabbitmq', priority: 'normal', domain: 'billing', ready: 0, inFlight: 0 });
    expect(closedMs).toBeLessThan(CLOSE_STEPS * RABBITMQ_CLOSE_STEP_TIMEOUT_MS + TIMER_SLACK_MS);
  }, 180_000);
});
