import { Injectable } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { performance } from 'node:perf_hooks';
import { KanbanContext, KanbanHandler, KanbanWorkerPool, type WorkerState } from '@tps/kanban';
import { waitFor } from '../harness';
import { TRANSPORTS, createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from './support/kanban-test-app';

const GATEWAY = namespace.domain('gateway');

let failing = true;
let calls = 0;

@Injectable()
class GatewayConsumer {
  @KanbanHandler({ priority: 'high', domain: GATEWAY })
  handle(@Payload() _payload: unknown) {
    calls++;
    if (failing) throw new Error('payment gateway timeout');
  }
}

describe.each(TRANSPORTS)('circuit breaker (%s)', (transport) => {
  let app: KanbanTestApp;

  beforeAll(async () => {
    failing = true;
    calls = 0;
    app = await createKanbanTestApp({
      transport,
      providers: [GatewayConsumer],
      options: { workerPullSize: 5, maxWorkers: 1, autoscale: false, maxAttempts: 10, retryBackoffMs: [60_000], coordinatorCheckIntervalMs: 60_000 },
    });
  });
  afterAll(() => app.close());

  it('opens after 3 consecutive failures, returns unstarted items, raises the metric and an ALERT', async () => {
    // Arrange
    await app.pool.stop(GATEWAY, 'high');
    for (let i = 0; i < 5; i++) await app.queue.publish({ priority: 'high', domain: GATEWAY, payload: i, deadline: inFuture() });

    // Act
    app.pool.start(GATEWAY, 'high');
    const worker = await waitFor(() => app.pool.status().find((w) => w.state === 'open'), { timeoutMs: 10_000, description: 'breaker open' });

    // Assert
    expect(calls).toBe(3);
    expect(worker).toMatchObject({ consecutiveFailures: 3, inFlight: 0 });
    // On NATS an item waiting out its retry delay counts as in flight, so only the total is common ground; the
    // worker's last settle may still be landing (on NATS a long retry moves the item to the delay stream, then acks it).
    const total = async (): Promise<number> => {
      const [depth] = await app.queue.depth();
      return depth.ready + depth.inFlight;
    };
    expect(await waitFor(async () => ((await total()) === 5 ? 5 : undefined), { timeoutMs: 5_000, description: 'depth total 5' }).catch(total)).toBe(5);
    const gauge = (await app.metrics.circuitBreakerOpen.get()).values.find((v) => v.labels.worker === worker.id);
    expect(gauge?.value).toBe(1);
    expect(app.logs.filter((l) => l.includes('ALERT circuit breaker open'))).toHaveLength(1);
    expect(app.coordinator.getHealth().open_circuit_breakers).toBe(1);
  });

  it('stays open (no more pulls) until restarted, then processes the backlog', async () => {
    // Arrange
    const callsWhileOpen = calls;
    failing = false;

    // Act
    await app.coordinator.adjustWorkers(1);
    await waitFor(async () => (await app.queue.getMetrics()).acked === 2, { timeoutMs: 10_000, description: 'the 2 returned items acked' });

    // Assert
    expect(callsWhileOpen).toBe(3);
    expect(app.pool.status().every((w) => w.state === 'running')).toBe(true);
    const gauge = (await app.metrics.circuitBreakerOpen.get()).values.filter((v) => v.value === 1);
    expect(gauge).toEqual([]);
  });
});

const PROBED = namespace.domain('probed');
const COOLDOWN_MS = 1_500;
/** Enough for the first batch to open the breaker and leave items ready for two probes and a batch after them. */
const PROBED_ITEMS = 7;
const STEP_TIMEOUT_MS = 10_000;

/** One handler run: when, the worker's state then, and how many more items its batch held. */
interface ProbedCall {
  at: number;
  state?: WorkerState;
  waitingInBatch?: number;
}

const probed = { failing: true, calls: [] as ProbedCall[] };

@Injectable()
class ProbedGatewayConsumer {
  constructor(private readonly pool: KanbanWorkerPool) {}

  @KanbanHandler({ priority: 'high', domain: PROBED })
  handle(@Payload() _payload: unknown, @Ctx() context: KanbanContext) {
    const worker = this.pool.status().find((w) => w.id === context.getWorkerId());
    probed.calls.push({ at: performance.now(), state: worker?.state, waitingInBatch: worker?.inFlight });
    if (probed.failing) throw new Error('payment gateway timeout');
  }
}

describe.each(TRANSPORTS)('circuit breaker with a half-open probe (%s)', (transport) => {
  let app: KanbanTestApp;
  const worker = () => app.pool.status().find((w) => w.domain === PROBED);
  const gauge = async (id: string) => (await app.metrics.circuitBreakerOpen.get()).values.find((v) => v.labels.worker === id)?.value;

  beforeAll(async () => {
    probed.failing = true;
    probed.calls = [];
    app = await createKanbanTestApp({
      transport,
      providers: [ProbedGatewayConsumer],
      options: { workerPullSize: 5, maxWorkers: 1, autoscale: false, maxAttempts: 10, retryBackoffMs: [60_000], coordinatorCheckIntervalMs: 60_000, circuitBreakerCooldownMs: COOLDOWN_MS },
    });
  });
  afterAll(() => app.close());

  it('after the cooldown lets exactly one probe item through, and a failing probe opens the breaker again', async () => {
    // Arrange
    await app.pool.stop(PROBED, 'high');
    for (let i = 0; i < PROBED_ITEMS; i++) await app.queue.publish({ priority: 'high', domain: PROBED, payload: i, deadline: inFuture() });
    app.pool.start(PROBED, 'high');
    await waitFor(() => worker()?.state === 'open', { timeoutMs: STEP_TIMEOUT_MS, intervalMs: 10, description: 'breaker open' });

    // Act
    const reopened = await waitFor(() => (probed.calls.length === 4 && worker()?.state === 'open' ? worker() : undefined), {
      timeoutMs: STEP_TIMEOUT_MS,
      intervalMs: 10,
      description: 'a failed probe and the breaker open again',
    });

    // Assert
    const [, , opening, probe] = probed.calls;
    expect(probe).toMatchObject({ state: 'half_open', waitingInBatch: 0 });
    expect(probe.at - opening.at).toBeGreaterThanOrEqual(COOLDOWN_MS);
    expect(reopened.consecutiveFailures).toBe(4);
    expect(await gauge(reopened.id)).toBe(1);
    expect(app.logs.filter((l) => l.includes('ALERT circuit breaker open'))).toHaveLength(2);
    // Nothing lost: the failed ones wait out their backoff, the rest are ready (on NATS a retry delay counts as in
    // flight); the failed probe's settle may still be landing (on NATS: moved to the delay stream, then acked).
    const total = async (): Promise<number> => (await app.queue.depth()).filter((q) => q.domain === PROBED).reduce((sum, q) => sum + q.ready + q.inFlight, 0);
    expect(await waitFor(async () => ((await total()) === PROBED_ITEMS ? PROBED_ITEMS : undefined), { timeoutMs: 5_000, description: `depth total ${PROBED_ITEMS}` }).catch(total)).toBe(PROBED_ITEMS);
  });

  it('closes on a successful probe after the cooldown, clears the metric and works through the backlog', async () => {
    // Arrange
    probed.failing = false;

    // Act
    await waitFor(async () => (await app.queue.getMetrics()).acked === PROBED_ITEMS - 4, { timeoutMs: STEP_TIMEOUT_MS, intervalMs: 10, description: 'the probe and the ready items acked' });

    // Assert
    const [, , , failedProbe, probe, ...afterClose] = probed.calls;
    expect(probe).toMatchObject({ state: 'half_open', waitingInBatch: 0 });
    expect(probe.at - failedProbe.at).toBeGreaterThanOrEqual(COOLDOWN_MS);
    expect(afterClose.map((call) => call.state)).toEqual(afterClose.map(() => 'running'));
    expect(afterClose).toHaveLength(PROBED_ITEMS - 5);
    const closed = worker();
    expect(closed).toMatchObject({ state: 'running', consecutiveFailures: 0 });
    expect(await gauge(closed?.id as string)).toBe(0);
    expect(app.logs.filter((l) => l.includes('ALERT circuit breaker open'))).toHaveLength(2);
  });
});
