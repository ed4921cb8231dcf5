import { setTimeout as delay } from 'node:timers/promises';
import { CliError } from '../errors';
import { ExitCode, type ExitCodeValue } from '../exit-codes.constants';
import type { KanbanApiClient } from '../http';
import { renderFields } from '../output';
import type { Command } from './command.interface';
import { queuesTable, type CoordinatorHealth, type QueuesView } from './queue-views';
import { watchQuitKeys } from './quit-keys';

/** Seconds between frames by default: the server samples depth every 5 s, so faster shows little more. */
export const DEFAULT_TOP_INTERVAL_SECONDS = 2;
/** Moves the cursor home and clears the terminal, so each frame replaces the last. */
const CLEAR_SCREEN = '\x1b[H\x1b[2J';

type Frame = { at: number; queues: QueuesView; health: CoordinatorHealth } | { at: number; error: CliError };

async function takeFrame(api: KanbanApiClient): Promise<Frame> {
  try {
    const [queues, health] = await Promise.all([api.get<QueuesView>('/queues'), api.get<CoordinatorHealth>('/coordinator/health')]);
    return { at: Date.now(), queues, health };
  } catch (error) {
    if (error instanceof CliError) return { at: Date.now(), error };
    throw error;
  }
}

function renderFrame(frame: Frame, url: string, intervalSeconds: number): string {
  const title = `kanban top  ${url}  ${new Date(frame.at).toISOString()}  every ${intervalSeconds} s, q to quit`;
  if ('error' in frame) return `${title}\n\nerror  ${frame.error.message}`;
  const { health, queues } = frame;
  const depth = health.queue_depth_samples;
  const fields = renderFields([
    ['broker', `${health.broker.active} ${health.broker.state}`],
    ['workers', `${health.current_workers} of ${health.target_workers}`],
    ['open breakers', String(health.open_circuit_breakers)],
    ['draining', health.queue_draining ? 'yes' : 'no'],
    ['depth', depth.length ? `${depth[depth.length - 1]}  (last samples: ${depth.join(' ')})` : '-'],
  ]);
  return `${title}\n${fields}\n\n${queuesTable(queues)}`;
}

export const topCommand: Command = {
  words: ['top'],
  summary: 'a live view of queues, workers and breakers, redrawn until q or Ctrl-C',
  usage: '[--interval <seconds>] [--iterations <n>]',
  description: 'With --json, one JSON line per frame. A frame that fails shows the error and the view carries on; the exit code is that of the last frame.',
  options: {
    interval: { type: 'string', value: '<seconds>', description: `between frames (default ${DEFAULT_TOP_INTERVAL_SECONDS})` },
    iterations: { type: 'string', value: '<n>', description: 'stop after n frames (default: until q or Ctrl-C)' },
  },
  async run({ api, out, input, io }) {
    input.noPositionals();
    const intervalSeconds = input.seconds('interval') ?? DEFAULT_TOP_INTERVAL_SECONDS;
    const iterations = input.integer('iterations', 1);
    const redraw = io.stdout.isTTY === true && !out.json;
    const stop = new AbortController();
    const release = watchQuitKeys(io, stop);
    let exitCode: ExitCodeValue = ExitCode.ok;
    try {
      for (let drawn = 1; !stop.signal.aborted; drawn++) {
        const frame = await takeFrame(api);
        exitCode = 'error' in frame ? frame.error.exitCode : ExitCode.ok;
        if (out.json) out.jsonLine('error' in frame ? { at: frame.at, error: frame.error.toJSON() } : frame);
        else out.text(`${redraw ? CLEAR_SCREEN : drawn > 1 ? '\n' : ''}${renderFrame(frame, api.displayUrl, intervalSeconds)}`);
        if (iterations !== undefined && drawn >= iterations) break;
        await delay(intervalSeconds * 1_000, undefined, { signal: stop.signal }).catch((error: unknown) => {
          if ((error as Error).name !== 'AbortError') throw error;
        });
      }
    } finally {
      release();
    }
    return exitCode;
  },
};
