import { ApiError } from '../errors';
import { ExitCode, type ExitCodeValue } from '../exit-codes.constants';
import { ProgressBar, type Output } from '../output';
import type { Selection } from './dlq-selection';

/** Requests in flight at once during a bulk replay or purge: fast, yet far below the server's rate limit. */
export const BULK_CONCURRENCY = 4;

export interface BulkOutcome<R> {
  /** Results in the order of the ids. */
  done: R[];
  /** Ids the server no longer has (404). */
  gone: string[];
  /** Ids not attempted because the run stopped. */
  remaining: number;
  failure?: { id: string; error: unknown };
}

/**
 * Runs `action` on every id, a few at a time. A 404 is recorded as gone; any other error stops
 * the run (the next ids would meet the same outage or refusal), after the requests in flight end.
 */
export async function runBulk<R>(ids: string[], action: (id: string) => Promise<R>, progress?: ProgressBar): Promise<BulkOutcome<R>> {
  const results = new Array<R | undefined>(ids.length);
  const gone: string[] = [];
  let failure: BulkOutcome<R>['failure'];
  let next = 0;
  let attempted = 0;
  progress?.start();
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < ids.length) {
      const index = next++;
      attempted += 1;
      try {
        results[index] = await action(ids[index]);
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) gone.push(ids[index]);
        else failure ??= { id: ids[index], error };
      }
      progress?.tick();
    }
  };
  await Promise.all(Array.from({ length: Math.min(BULK_CONCURRENCY, ids.length) }, lane));
  progress?.finish();
  return { done: results.filter((r): r is R => r !== undefined), gone, remaining: ids.length - attempted, failure };
}

/** Shows the progress of an --all run; a handful of named ids need none. */
export function progressFor(out: Output, selection: Selection, label: string): ProgressBar | undefined {
  return selection.all ? new ProgressBar(out, label, selection.ids.length) : undefined;
}

/**
 * The exit code after the result is printed: the stopping error's, else 2 when a named id was
 * not found; letters gone during --all were taken by another client, which is no error.
 * @throws the error that stopped the run
 */
export function bulkExitCode(out: Output, selection: Selection, outcome: BulkOutcome<unknown>): ExitCodeValue {
  if (outcome.failure) {
    out.note(`stopped at ${outcome.failure.id}; ${outcome.remaining} not attempted`);
    throw outcome.failure.error;
  }
  if (outcome.gone.length === 0) return ExitCode.ok;
  if (selection.all) {
    out.note(`${outcome.gone.length} already gone (replayed or purged by another client meanwhile)`);
    return ExitCode.ok;
  }
  for (const id of outcome.gone) out.note(`no dead letter ${id}`);
  return ExitCode.notFound;
}
