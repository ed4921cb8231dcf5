import { UsageError } from '../errors';

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** A command's parsed options and arguments, read through typed accessors that raise UsageError. */
export class CommandInput {
  constructor(
    /** The command's words, e.g. `dlq replay`. */
    readonly command: string,
    private readonly values: Values,
    readonly positionals: string[],
  ) {}

  string(name: string): string | undefined {
    const value = this.values[name];
    return typeof value === 'string' ? value : undefined;
  }

  requiredString(name: string): string {
    const value = this.string(name);
    if (value === undefined || value === '') throw this.usage(`--${name} is required`);
    return value;
  }

  strings(name: string): string[] {
    const value = this.values[name];
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  }

  flag(name: string): boolean {
    return this.values[name] === true;
  }

  /** An integer option within [min, max]; undefined when absent. */
  integer(name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const raw = this.string(name);
    return raw === undefined ? undefined : this.parseInteger(`--${name}`, raw, min, max);
  }

  /** A positive number of seconds, fractions allowed; undefined when absent. */
  seconds(name: string): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || value <= 0) throw this.usage(`--${name} must be a positive number of seconds, not ${raw}`);
    return value;
  }

  /** A finite number above 0, fractions allowed; undefined when absent. */
  positiveNumber(name: string): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || !Number.isFinite(value) || value <= 0) throw this.usage(`--${name} must be a number above 0, not ${raw}`);
    return value;
  }

  /** A JSON value given inline; undefined when absent. */
  json(name: string): unknown {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    try {
      return JSON.parse(raw);
    } catch (error) {
      throw this.usage(`--${name} is not JSON (${(error as Error).message}); quote strings: --${name} '"text"'`);
    }
  }

  /** The one positional argument the command takes. */
  onePositional(what: string): string {
    if (this.positionals.length !== 1) throw this.usage(`expected one ${what}, got ${this.positionals.length}`);
    return this.positionals[0];
  }

  noPositionals(): void {
    if (this.positionals.length > 0) throw this.usage(`unexpected argument ${this.positionals[0]}`);
  }

  parseInteger(label: string, raw: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw this.usage(`${label} must be an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}, not ${raw}`);
    }
    return value;
  }

  usage(message: string): UsageError {
    return new UsageError(message, this.command);
  }
}
