import { inspect } from 'node:util';
import type { LoggerService } from '@nestjs/common';

function render(value: unknown): string {
  return typeof value === 'string' ? value : inspect(value, { depth: 10 });
}

/** Keeps every line Nest logs, at every level, with each extra argument (errors, objects) rendered in full. */
export class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];

  log(message: unknown, ...rest: unknown[]): void {
    this.record('LOG', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.record('ERROR', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.record('WARN', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.record('DEBUG', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.record('VERBOSE', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.record('FATAL', message, rest);
  }

  text(): string {
    return this.lines.join('\n');
  }

  private record(level: string, message: unknown, rest: unknown[]): void {
    this.lines.push([level, render(message), ...rest.map(render)].join(' '));
  }
}
