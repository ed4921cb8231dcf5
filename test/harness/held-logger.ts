import { Logger, type LoggerService, type LogLevel } from '@nestjs/common';

declare const __kanbanHeldLogs: string[] | undefined;

/**
 * The Nest logger of every test: lines are kept for held-logs-environment.js, which prints them
 * only for a failed test. `Logger.overrideLogger(levels)` still narrows what is kept.
 */
class HeldLogger implements LoggerService {
  private levels = new Set<LogLevel>(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']);

  log(message: unknown, ...rest: unknown[]): void {
    this.hold('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.hold('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.hold('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.hold('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.hold('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.hold('fatal', message, rest);
  }
  setLogLevels(levels: LogLevel[]): void {
    this.levels = new Set(levels);
  }

  private hold(level: LogLevel, message: unknown, rest: unknown[]): void {
    if (!this.levels.has(level) || typeof __kanbanHeldLogs === 'undefined') return;
    const context = rest.length > 0 && typeof rest.at(-1) === 'string' ? ` [${String(rest.at(-1))}]` : '';
    const detail = rest
      .slice(0, -1)
      .filter((part) => part !== undefined)
      .map(String);
    const text = message instanceof Error ? (message.stack ?? message.message) : typeof message === 'string' ? message : JSON.stringify(message);
    __kanbanHeldLogs.push([`${new Date().toISOString()} ${level.toUpperCase()}${context} ${text}`, ...detail].join('\n'));
  }
}

Logger.overrideLogger(new HeldLogger());
