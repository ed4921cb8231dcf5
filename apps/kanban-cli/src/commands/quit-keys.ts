import type { CliIo } from '../output';

/** Ctrl-C as a raw-mode terminal sends it. */
const CTRL_C = '\u0003';

/**
 * Aborts `controller` on `q` or Ctrl-C at a terminal, and on SIGINT. Reads stdin only when it is
 * a terminal: a pipe is left alone, so it neither blocks nor keeps the process alive.
 * @returns the undo: listeners removed, the terminal back in its normal mode
 */
export function watchQuitKeys(io: CliIo, controller: AbortController): () => void {
  const quit = (): void => controller.abort();
  const onKey = (data: Buffer | string): void => {
    const key = data.toString();
    if (key === 'q' || key === 'Q' || key === CTRL_C) quit();
  };
  process.once('SIGINT', quit);
  const terminal = io.stdin.isTTY === true;
  if (terminal) {
    io.stdin.setRawMode(true);
    io.stdin.on('data', onKey);
    io.stdin.resume();
  }
  return () => {
    process.removeListener('SIGINT', quit);
    if (!terminal) return;
    io.stdin.removeListener('data', onKey);
    io.stdin.setRawMode(false);
    io.stdin.pause();
  };
}
