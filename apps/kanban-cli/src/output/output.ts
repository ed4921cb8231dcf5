import type { CliError } from '../errors';
import type { CliIo } from './cli-io.interface';

const REDACTED = '***';

/**
 * Everything the CLI prints goes through here: results to stdout (a table, or JSON with `--json`),
 * notes, progress and errors to stderr (with `--json`, only JSON lines). The token is masked in
 * every line, whatever its source.
 */
export class Output {
  constructor(
    private readonly io: CliIo,
    readonly json: boolean,
    private readonly secret?: string,
  ) {}

  /** The command's answer: `value` as JSON with `--json`, else the human rendering. */
  result(value: unknown, human: () => string): void {
    this.write(this.io.stdout, this.json ? JSON.stringify(value, null, 2) : human());
  }

  /** One compact JSON line (a frame of `top --json`). */
  jsonLine(value: unknown): void {
    this.write(this.io.stdout, JSON.stringify(value));
  }

  /** Text for people on stdout, as it is (help, frames). */
  text(text: string): void {
    this.write(this.io.stdout, text);
  }

  /** A note for people beside the result, on stderr; left out with `--json`, whose result says the same. */
  note(text: string): void {
    if (!this.json) this.write(this.io.stderr, text);
  }

  /** One compact JSON line on stderr (progress with `--json`, where every stderr line is JSON). */
  jsonNote(value: unknown): void {
    this.write(this.io.stderr, JSON.stringify(value));
  }

  error(error: CliError): void {
    this.write(this.io.stderr, this.json ? JSON.stringify({ error: error.toJSON() }) : `kanban: ${error.message}`);
  }

  /** A failure the CLI did not foresee: its stack helps a bug report. */
  unexpected(error: unknown): void {
    this.write(this.io.stderr, `kanban: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }

  get stderrIsTerminal(): boolean {
    return this.io.stderr.isTTY === true;
  }

  /** Raw text on stderr without a newline (a progress bar redrawn in place). */
  rawNote(text: string): void {
    this.io.stderr.write(this.redact(text));
  }

  private write(stream: NodeJS.WriteStream, text: string): void {
    stream.write(`${this.redact(text).replace(/\n$/, '')}\n`);
  }

  private redact(text: string): string {
    return this.secret ? text.split(this.secret).join(REDACTED) : text;
  }
}
