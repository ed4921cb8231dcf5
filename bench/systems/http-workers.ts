import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchItem } from './queue-system';

/** Well past the slowest answer seen on a loaded 2-CPU machine (publishes queue for seconds there): only a stuck server times out. */
const REQUEST_TIMEOUT_MS = 60_000;
/** A 503 means "no broker can store this right now, retry later": a client sends it again this often, this far apart. */
const ATTEMPTS_ON_503 = 5;
const RETRY_DELAY_MS = 500;
/** Items one pull asks for: the library's default pull size. */
const PULL_MAX = 10;
/** How long a pull waits for items on an empty queue: bounds how long stopping takes. */
const PULL_WAIT_MS = 500;

interface PulledBenchItem {
  id: string;
  domain: string;
  lease: string;
  payload: BenchItem;
}

export interface HttpWorkerHooks {
  onPulled(item: BenchItem): void;
  /** The server answered the ack with 200. */
  onAcked(item: BenchItem): void;
}

/**
 * POSTs JSON as a worker in another language would (plain fetch).
 * @throws Error naming the request and the answer when the status is not 2xx.
 */
export async function postJson<T>(url: string, body: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      // A connection per request: on a machine this loaded, reusing an idle keep-alive socket races the
      // server closing it (Node's 5 s keep-alive timeout) and fails the request with UND_ERR_SOCKET.
      headers: { 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    // fetch says only "fetch failed": the reason (refused, reset, timed out) is its cause.
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`POST ${url}: ${(error as Error).message} (${cause?.code ?? cause?.message ?? 'no cause'})`, { cause: error });
  }
  const answer = (await response.json()) as T;
  if (!response.ok) throw new HttpStatusError(`POST ${url}: ${response.status} ${JSON.stringify(answer)}`, response.status);
  return answer;
}

/**
 * POSTs and sends again on 503, as the API asks; `onRetry` counts the retries.
 * @throws the last error when it is not a 503 or the attempts are used up.
 */
export async function postRetryingOn503<T>(pickUrl: () => string, body: unknown, onRetry: () => void): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await postJson<T>(pickUrl(), body);
    } catch (error) {
      if (!(error instanceof HttpStatusError && error.status === 503) || attempt === ATTEMPTS_ON_503) throw error;
      onRetry();
      await sleep(RETRY_DELAY_MS);
    }
  }
}

export class HttpStatusError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'HttpStatusError';
  }
}

/**
 * HTTP workers: each pulls at one server and acks every item at a random server of the fleet, so
 * with several servers most acks take the relay to the holder. A failed pull or ack stops its
 * worker and is kept in `problems`: the run then fails instead of counting a lost ack as done.
 */
export class HttpWorkers {
  readonly problems: string[] = [];
  /** Acks answered 503 and sent again. */
  retriedAcks = 0;
  private stopping = false;
  private running: Promise<void>[] = [];

  constructor(
    private readonly serverUrls: string[],
    private readonly domain: string,
    private readonly priority: string,
  ) {}

  start(count: number, hooks: HttpWorkerHooks): void {
    this.running = Array.from({ length: count }, (_, index) => this.run(this.serverUrls[index % this.serverUrls.length], hooks));
  }

  /** Resolves once every worker finished its current pull and acks. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
  }

  private async run(pullUrl: string, hooks: HttpWorkerHooks): Promise<void> {
    try {
      while (!this.stopping) {
        const items = await postJson<PulledBenchItem[]>(`${pullUrl}/work/pull`, { priority: this.priority, domain: this.domain, max: PULL_MAX, waitMs: PULL_WAIT_MS });
        await Promise.all(items.map((item) => this.work(item, hooks)));
      }
    } catch (error) {
      this.problems.push((error as Error).message);
    }
  }

  private async work(item: PulledBenchItem, hooks: HttpWorkerHooks): Promise<void> {
    hooks.onPulled(item.payload);
    const ackUrl = () => `${this.serverUrls[Math.floor(Math.random() * this.serverUrls.length)]}/work/${encodeURIComponent(item.id)}/ack`;
    await postRetryingOn503(ackUrl, { domain: item.domain, lease: item.lease }, () => this.retriedAcks++);
    hooks.onAcked(item.payload);
  }
}
