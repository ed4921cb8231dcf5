/** Options of `waitFor`: how long to keep checking and how often. */
export interface WaitForOptions {
  timeoutMs: number;
  /** @default 100 */
  intervalMs?: number;
  /** Says what was awaited in the timeout error. */
  description: string;
}

/**
 * Polls `condition` until it returns a truthy value (which it resolves to) or the time is up.
 * Bounded polling for a state, never a fixed sleep; errors thrown by `condition` count as "not yet".
 * @throws Error naming `description` and the last error seen once `timeoutMs` has passed.
 */
export async function waitFor<T>(condition: () => T | Promise<T>, options: WaitForOptions): Promise<NonNullable<T>> {
  const deadline = Date.now() + options.timeoutMs;
  const intervalMs = options.intervalMs ?? 100;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`Timed out after ${options.timeoutMs} ms waiting for ${options.description}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
