import type { Output } from './output';

const BAR_WIDTH = 30;
/** Without a terminal, one line per tenth of the work: a log stays short. */
const LOG_STEPS = 10;

/**
 * Progress of a bulk operation on stderr: a bar redrawn in place on a terminal, a line per tenth
 * otherwise (CI logs, pipes), a JSON line per tenth with `--json`. stdout keeps only the result.
 */
export class ProgressBar {
  private done = 0;
  private loggedStep = -1;

  constructor(
    private readonly out: Output,
    private readonly label: string,
    private readonly total: number,
  ) {}

  start(): void {
    this.draw();
  }

  tick(): void {
    this.done += 1;
    this.draw();
  }

  /** Ends the bar's line on a terminal. */
  finish(): void {
    if (this.out.stderrIsTerminal && !this.out.json) this.out.rawNote('\n');
  }

  private draw(): void {
    const fraction = this.total === 0 ? 1 : this.done / this.total;
    const counts = `${this.done}/${this.total} (${Math.floor(fraction * 100)}%)`;
    if (this.out.stderrIsTerminal && !this.out.json) {
      const filled = Math.round(fraction * BAR_WIDTH);
      this.out.rawNote(`\r${this.label} [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${counts}`);
      return;
    }
    const step = Math.floor(fraction * LOG_STEPS);
    if (step === this.loggedStep) return;
    this.loggedStep = step;
    if (this.out.json) this.out.jsonNote({ progress: { action: this.label, done: this.done, total: this.total } });
    else this.out.note(`${this.label} ${counts}`);
  }
}
