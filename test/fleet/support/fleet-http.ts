import type { FleetInstance } from './fleet-instance';

/** Longer than any answer the server owes (a relayed settle gives up after 5 s), so only a dead instance times out. */
const REQUEST_TIMEOUT_MS = 15_000;

export interface HttpAnswer<T = unknown> {
  status: number;
  body: T;
}

/**
 * POSTs JSON to one instance, as a worker in another language would (plain fetch).
 * @throws the fetch error when the instance cannot be reached (refused, reset, timed out).
 */
export async function post<T = unknown>(instance: FleetInstance, path: string, body: unknown): Promise<HttpAnswer<T>> {
  const response = await fetch(`${instance.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return { status: response.status, body: (await response.json()) as T };
}

export async function get<T = unknown>(instance: FleetInstance, path: string): Promise<HttpAnswer<T>> {
  const response = await fetch(`${instance.url}${path}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  return { status: response.status, body: (await response.json()) as T };
}

/** The instances not killed, and random picks among them. */
export class Fleet {
  constructor(
    readonly instances: FleetInstance[],
    private readonly random: () => number,
  ) {}

  live(): FleetInstance[] {
    return this.instances.filter((instance) => instance.alive);
  }

  /** A live instance, none of `except` when another is live. */
  pick(except: FleetInstance[] = []): FleetInstance {
    const live = this.live();
    const others = live.filter((instance) => !except.includes(instance));
    const choices = others.length > 0 ? others : live;
    if (choices.length === 0) throw new Error('no live instance left');
    return choices[Math.floor(this.random() * choices.length)];
  }
}
