import { Injectable } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { DEFAULT_CIRCUIT_BREAKER_COOLDOWN_MS, KanbanHealthModule, KanbanHandler, WorkersHealthIndicator, resolveKanbanOptions } from '@tps/kanban';
import { waitFor } from '../harness';
import { TRANSPORTS, createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from './support/kanban-test-app';

const POISON = namespace.domain('poison');
const FLAKY = namespace.domain('flaky');
const STEP_TIMEOUT_MS = 10_000;
const SHORT_COOLDOWN_MS = 1_000;

/** Payloads the handlers fail on; everything else succeeds. */
const failing = new Set<unknown>();

@Injectable()
class PoisonConsumer {
  @KanbanHandler({ priority: 'high', domain: POISON })
  handle(@Payload() payload: unknown) {
    if (failing.has(payload)) throw new Error(`cannot process ${String(payload)}`);
  }
}

@Injectable()
class FlakyConsumer {
  @KanbanHandler({ priority: 'high', domain: FLAKY })
  handle(@Payload() payload: unknown) {
    if (failing.has(payload)) throw new Error(`gateway timeout on ${String(payload)}`);
  }
}

describe('breaker defaults', () => {
  it('resolves a half-open cooldown by default, so no breaker stays open for good', () => {
    // Act
    const resolved = resolveKanbanOptions({});

    // Assert
    expect(DEFAULT_CIRCUIT_BREAKER_COOLDOWN_MS).toBeGreaterThan(0);
    expect(resolved.circuitBreakerCooldownMs).toBe(DEFAULT_CIRCUIT_BREAKER_COOLDOWN_MS);
    expect(resolved.maxAttempts).toBe(resolved.circuitBreakerThreshold);
  });
});

describe.each(TRANSPORTS)('one poison item with maxAttempts = threshold (%s)', (transport) => {
  let app: KanbanTestApp;

  beforeAll(async () => {
    failing.clear();
    app = await createKanbanTestApp({
      transport,
      providers: [PoisonConsumer],
      options: { maxWorkers: 1, autoscale: false, retryBackoffMs: [20], coordinatorCheckIntervalMs: 60_000 },
    });
  });
  afterAll(() => app.close());

  it('dead-letters the item after max_attempts without opening the breaker, and the next item is processed', async () => {
    // Arrange
    failing.add('poison');
    const poison = await app.queue.publish({ priority: 'high', domain: POISON, payload: 'poison', deadline: inFuture() });

    // Act
    await waitFor(async () => (await app.queue.listDeadLetters({ domain: POISON })).items.find((d) => d.id === poison.id), {
      timeoutMs: STEP_TIMEOUT_MS,
      description: 'the poison item dead-lettered',
    });
    await app.queue.publish({ priority: 'high', domain: POISON, payload: 'healthy', deadline: inFuture() });
    await waitFor(async () => (await app.queue.getMetrics()).acked === 1, { timeoutMs: STEP_TIMEOUT_MS, description: 'the next item acked' });

    // Assert
    const [deadLetter] = (await app.queue.listDeadLetters({ domain: POISON })).items;
    expect(deadLetter).toMatchObject({ reason: 'max_attempts', attempts: 3 });
    expect(app.pool.status()).toEqual([expect.objectContaining({ state: 'running', consecutiveFailures: 0 })]);
    expect(app.logs.filter((l) => l.includes('ALERT circuit breaker open'))).toEqual([]);
  });
});

describe.each(TRANSPORTS)('three distinct failing items (%s)', (transport) => {
  let app: KanbanTestApp;
  const worker = () => app.pool.status().find((w) => w.domain === FLAKY);

  beforeAll(async () => {
    failing.clear();
    app = await createKanbanTestApp({
      transport,
      imports: [KanbanHealthModule],
      providers: [FlakyConsumer],
      options: { workerPullSize: 1, maxWorkers: 1, autoscale: false, maxAttempts: 10, retryBackoffMs: [60_000], coordinatorCheckIntervalMs: 60_000 },
    });
  });
  afterAll(() => app.close());

  it('open the breaker, and health names the worker with the open breaker', async () => {
    // Arrange
    await app.pool.stop(FLAKY, 'high');
    for (const payload of ['a', 'b', 'c', 'd']) {
      failing.add(payload);
      await app.queue.publish({ priority: 'high', domain: FLAKY, payload, deadline: inFuture() });
    }

    // Act
    app.pool.start(FLAKY, 'high');
    const open = await waitFor(() => (worker()?.state === 'open' ? worker() : undefined), { timeoutMs: STEP_TIMEOUT_MS, description: 'breaker open' });
    const health = app.module.get(WorkersHealthIndicator).check();

    // Assert
    expect(open.consecutiveFailures).toBe(3);
    expect(health.workers.status).toBe('down');
    expect(health.workers.openCircuitBreakers).toEqual([{ worker: open.id, domain: FLAKY, priority: 'high', state: 'open', consecutiveFailures: 3 }]);
  });

  it('close through KanbanCoordinator.resetCircuitBreakers(), and the worker pulls again', async () => {
    // Arrange
    failing.clear();

    // Act
    const closed = app.coordinator.resetCircuitBreakers();
    await waitFor(async () => (await app.queue.getMetrics()).acked === 1, { timeoutMs: STEP_TIMEOUT_MS, description: 'the item left in the queue acked' });

    // Assert
    expect(closed).toBe(1);
    expect(worker()).toMatchObject({ state: 'running', consecutiveFailures: 0 });
    const gauge = (await app.metrics.circuitBreakerOpen.get()).values.filter((v) => v.value === 1);
    expect(gauge).toEqual([]);
    expect(app.module.get(WorkersHealthIndicator).check().workers).toMatchObject({ status: 'up', openCircuitBreakers: [] });
    expect(app.logs.filter((l) => l.includes('Closed 1 open circuit breaker'))).toHaveLength(1);
  });
});

describe.each(TRANSPORTS)('the cooldown after distinct failures (%s)', (transport) => {
  let app: KanbanTestApp;
  const worker = () => app.pool.status().find((w) => w.domain === FLAKY);

  beforeAll(async () => {
    failing.clear();
    app = await createKanbanTestApp({
      transport,
      providers: [FlakyConsumer],
      options: { workerPullSize: 1, maxWorkers: 1, autoscale: false, maxAttempts: 10, retryBackoffMs: [60_000], coordinatorCheckIntervalMs: 60_000, circuitBreakerCooldownMs: SHORT_COOLDOWN_MS },
    });
  });
  afterAll(() => app.close());

  it('lets a half-open probe through that closes the breaker', async () => {
    // Arrange
    await app.pool.stop(FLAKY, 'high');
    for (const payload of ['x', 'y', 'z', 'ok']) {
      if (payload !== 'ok') failing.add(payload);
      await app.queue.publish({ priority: 'high', domain: FLAKY, payload, deadline: inFuture() });
    }

    // Act
    app.pool.start(FLAKY, 'high');
    await waitFor(() => worker()?.state === 'open', { timeoutMs: STEP_TIMEOUT_MS, intervalMs: 10, description: 'breaker open' });
    await waitFor(async () => (await app.queue.getMetrics()).acked === 1, { timeoutMs: STEP_TIMEOUT_MS, description: 'the probe acked' });

    // Assert
    expect(worker()).toMatchObject({ state: 'running', consecutiveFailures: 0 });
  });
});
