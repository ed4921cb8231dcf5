import { Injectable } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { KanbanHandler } from '@tps/kanban';
import { waitFor } from '../harness';
import { createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from './support/kanban-test-app';

/** Handlers hold their item until the gate opens, counting how many run at once. */
class Gate {
  private open = false;
  private waiting: (() => void)[] = [];
  active = 0;
  maxActive = 0;
  done = 0;

  async pass(): Promise<void> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    if (!this.open) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active--;
    this.done++;
  }

  release(): void {
    this.open = true;
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

const ONE = namespace.domain('one-at-a-time');
const FOUR = namespace.domain('four-at-a-time');
const SLOW = namespace.domain('slow');
const BACKOFF = namespace.domain('backoff');
const EXPONENTIAL = namespace.domain('exponential');
const NO_BREAKER = namespace.domain('no-breaker');
const TOUCHY = namespace.domain('touchy');

const gates = { one: new Gate(), four: new Gate(), slow: new Gate() };
const attemptTimes: Record<string, number[]> = { fixed: [], exponential: [] };

@Injectable()
class Consumers {
  @KanbanHandler({ priority: 'normal', domain: ONE, concurrency: 1, pullSize: 1 })
  one() {
    return gates.one.pass();
  }

  @KanbanHandler({ priority: 'normal', domain: FOUR, concurrency: 4, pullSize: 1 })
  four() {
    return gates.four.pass();
  }

  @KanbanHandler({ priority: 'normal', domain: SLOW, processTimeoutMs: 300, pullSize: 2 })
  async slow() {
    await gates.slow.pass();
  }

  @KanbanHandler({ priority: 'normal', domain: BACKOFF, maxAttempts: 3, backoff: { type: 'fixed', delayMs: 400 } })
  fixed() {
    attemptTimes.fixed.push(performance.now());
    throw new Error('still down');
  }

  @KanbanHandler({ priority: 'normal', domain: EXPONENTIAL, maxAttempts: 3, backoff: { type: 'exponential', delayMs: 300, jitter: 0 } })
  exponential() {
    attemptTimes.exponential.push(performance.now());
    throw new Error('still down');
  }

  @KanbanHandler({ priority: 'normal', domain: NO_BREAKER, maxAttempts: 1, circuitBreaker: false })
  noBreaker() {
    throw new Error('downstream gone');
  }

  @KanbanHandler({ priority: 'normal', domain: TOUCHY, maxAttempts: 1, circuitBreaker: { threshold: 1, cooldownMs: 60_000 } })
  touchy() {
    throw new Error('downstream gone');
  }
}

const gaps = (times: number[]): number[] => times.slice(1).map((t, i) => t - times[i]);

describe('per-handler worker options (embedded)', () => {
  let app: KanbanTestApp;

  beforeAll(async () => {
    app = await createKanbanTestApp({
      providers: [Consumers],
      // The module's own settings: retry at once, time out after 30 s, open a breaker on the 3rd failure.
      options: { minWorkers: 3, maxWorkers: 5, retryBackoffMs: [0], maxAttempts: 5, circuitBreakerThreshold: 3, startWorkers: false, coordinatorCheckIntervalMs: 60_000 },
    });
  });
  afterAll(async () => {
    for (const gate of Object.values(gates)) gate.release();
    await app.close();
  });

  const publish = async (domain: string, count: number): Promise<string[]> => {
    const ids: string[] = [];
    for (let n = 0; n < count; n++) ids.push((await app.queue.publish({ priority: 'normal', domain, payload: { n }, deadline: inFuture() })).id);
    return ids;
  };
  const deadLetters = (domain: string, count: number) =>
    waitFor(
      async () => {
        const found = (await app.queue.listDeadLetters({ domain })).items;
        return found.length >= count ? found : undefined;
      },
      { timeoutMs: 15_000, description: `${count} dead letter(s) on ${domain}` },
    );

  it('runs concurrency 1 one item at a time and concurrency 4 four at once', async () => {
    // Arrange
    await publish(ONE, 6);
    await publish(FOUR, 6);

    // Act
    app.pool.start(ONE, 'normal', 3);
    app.pool.start(FOUR, 'normal', 3);
    await waitFor(() => gates.four.active === 4 && gates.one.active === 1, { timeoutMs: 10_000, description: '4 and 1 handlers running' });
    const workers = { one: app.pool.workerCount(`kanban.normal.${ONE}`), four: app.pool.workerCount(`kanban.normal.${FOUR}`) };
    gates.one.release();
    gates.four.release();
    await waitFor(() => gates.one.done === 6 && gates.four.done === 6, { timeoutMs: 10_000, description: 'every item processed' });

    // Assert
    expect(workers).toEqual({ one: 1, four: 4 });
    expect(gates.one.maxActive).toBe(1);
    expect(gates.four.maxActive).toBe(4);
  });

  it('pulls pullSize items at a time and dead-letters a run longer than processTimeoutMs as processing_timeout', async () => {
    // Arrange
    const ids = await publish(SLOW, 3);

    // Act
    const started = performance.now();
    app.pool.start(SLOW, 'normal');
    await waitFor(() => gates.slow.active === 1, { timeoutMs: 5_000, description: 'the first slow item running' });
    const [depth] = (await app.queue.depth()).filter((q) => q.domain === SLOW);
    const letters = await deadLetters(SLOW, 3);
    const elapsed = performance.now() - started;
    gates.slow.release();
    await app.pool.stop(SLOW, 'normal');

    // Assert
    expect(depth).toMatchObject({ ready: 1, inFlight: 2 });
    expect(letters.map((l) => l.id).sort()).toEqual([...ids].sort());
    expect(letters.every((l) => l.reason === 'processing_timeout' && l.error === 'handler ran longer than 300 ms')).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(900);
  });

  it('waits the fixed backoff between attempts, and the exponential one doubling', async () => {
    // Arrange
    await publish(BACKOFF, 1);
    await publish(EXPONENTIAL, 1);

    // Act
    app.pool.start(BACKOFF, 'normal');
    app.pool.start(EXPONENTIAL, 'normal');
    await deadLetters(BACKOFF, 1);
    await deadLetters(EXPONENTIAL, 1);

    // Assert
    expect(attemptTimes.fixed).toHaveLength(3);
    expect(attemptTimes.exponential).toHaveLength(3);
    for (const gap of gaps(attemptTimes.fixed)) expect(gap).toBeGreaterThanOrEqual(400);
    const [first, second] = gaps(attemptTimes.exponential);
    expect(first).toBeGreaterThanOrEqual(300);
    expect(second).toBeGreaterThanOrEqual(600);
  });

  it('never opens a breaker set to false, and opens one of threshold 1 on the first failure', async () => {
    // Arrange
    await publish(NO_BREAKER, 4);
    await publish(TOUCHY, 1);

    // Act
    app.pool.start(NO_BREAKER, 'normal');
    app.pool.start(TOUCHY, 'normal');
    await deadLetters(NO_BREAKER, 4);
    const touchy = await waitFor(() => app.pool.status().find((w) => w.domain === TOUCHY && w.state === 'open'), { timeoutMs: 10_000, description: 'the touchy breaker open' });

    // Assert
    expect(
      app.pool
        .status()
        .filter((w) => w.domain === NO_BREAKER)
        .map((w) => [w.state, w.consecutiveFailures]),
    ).toEqual([['running', 4]]);
    expect(touchy.consecutiveFailures).toBe(1);
  });
});
