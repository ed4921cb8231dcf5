import { performance } from 'node:perf_hooks';
import type { KanbanTransport, TransportSettings } from '../../libs/kanban/src/transport';
import type { PublishRequest, PullOptions, QueueRef, TransportDelivery, WorkItem } from '../../libs/kanban/src/interfaces';
import { validatePublishRequest } from '../../libs/kanban/src/validation';

/** Lease that cannot lapse during a test, so only the behaviour under test moves items. */
export const LONG_LEASE_MS = 30_000;
/** Lease short enough to watch it lapse, long enough not to lapse while the test still settles it. */
export const SHORT_LEASE_MS = 500;
/** Upper bound for anything a transport should do "soon" (redelivery after a lapse, a delay, a reopen). */
export const EVENTUALLY_MS = 10_000;
/** Gap between polls while waiting for a condition. */
export const POLL_INTERVAL_MS = 25;

/** Settings for contract tests: generous limits, so each case tightens only the one it exercises. */
export function contractSettings(overrides: Partial<TransportSettings> = {}): TransportSettings {
  return {
    maxAttempts: 5,
    maxQueueDepth: 10_000,
    dedupWindowMs: 60_000,
    maxPayloadBytes: 512 * 1024,
    retryBackoffMs: [100],
    workerPullSize: 10,
    leaseMs: LONG_LEASE_MS,
    groups: { window: 100, metrics: false, domains: {} },
    ...overrides,
  };
}

/** Builds a valid item the way the queue does (through validation), one hour before its deadline. */
export function makeItem(request: Partial<PublishRequest> = {}): WorkItem {
  return validatePublishRequest({ priority: 'normal', domain: 'orders', payload: { n: 0 }, deadlineMs: 3_600_000, ...request }, 512 * 1024);
}

export async function publishAll(transport: KanbanTransport, items: WorkItem[]): Promise<void> {
  for (const item of items) await transport.publish(item);
}

/** Lets time pass where the behaviour under test is defined by elapsed time (leases, delays). */
export function letTimePass(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = EVENTUALLY_MS): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await letTimePass(POLL_INTERVAL_MS);
  }
}

/**
 * Pulls until `count` deliveries arrived (a transport may hand out fewer than `max` per call).
 * Fails if more than `count` arrive or if they do not arrive within EVENTUALLY_MS.
 */
export async function pullExactly(transport: KanbanTransport, queue: QueueRef, count: number, options: Partial<PullOptions> = {}): Promise<TransportDelivery[]> {
  const collected: TransportDelivery[] = [];
  const deadline = performance.now() + EVENTUALLY_MS;
  while (collected.length < count) {
    if (performance.now() > deadline) {
      throw new Error(`Pulled ${collected.length} of ${count} expected deliveries from ${JSON.stringify(queue)} within ${EVENTUALLY_MS} ms`);
    }
    const batch = await transport.pull(queue, count - collected.length, { leaseMs: LONG_LEASE_MS, waitMs: 200, ...options });
    collected.push(...batch);
  }
  if (collected.length > count) throw new Error(`Expected ${count} deliveries, got ${collected.length}`);
  return collected;
}

/** Depth of one queue, summed over the rows a composite transport may list for it (one per broker). */
export async function depthOf(transport: KanbanTransport, priority: WorkItem['priority'], domain: string): Promise<{ ready: number; inFlight: number }> {
  const rows = (await transport.depth()).filter((d) => d.priority === priority && d.domain === domain);
  return { ready: rows.reduce((sum, d) => sum + d.ready, 0), inFlight: rows.reduce((sum, d) => sum + d.inFlight, 0) };
}

/** The broker that should appear on receipts and dead letters: the one taking publishes now. */
export function activeBroker(transport: KanbanTransport): string {
  return transport.currentStatus.active;
}

/** Waits until the depth of a queue equals `expected` (brokers may report depth with a short lag). */
export async function expectDepth(transport: KanbanTransport, priority: WorkItem['priority'], domain: string, expected: { ready: number; inFlight: number }): Promise<void> {
  let last = await depthOf(transport, priority, domain);
  try {
    await eventually(
      `depth ${JSON.stringify(expected)}`,
      async () => {
        last = await depthOf(transport, priority, domain);
        return last.ready === expected.ready && last.inFlight === expected.inFlight ? true : undefined;
      },
      3_000,
    );
  } catch {
    expect(last).toEqual(expected);
  }
}

/** The fields of an item that must survive storage unchanged (attempts is the broker's count). */
export function storedFields(item: WorkItem): Omit<WorkItem, 'attempts'> {
  const { attempts: _attempts, ...fields } = item;
  return fields;
}
