import { inspect } from 'node:util';
import { Logger } from '@nestjs/common';
import { CapturingLogger } from './capturing-logger';

/** Everything a start-up could show a person: the error in full (causes included) and every log line. */
export interface StartupRecord {
  error: unknown;
  logger: CapturingLogger;
  /** Whatever reached stdout or stderr directly (a library printing on its own). */
  written: string;
}

/**
 * Runs `start` with Nest's logger captured and stdout/stderr recorded, and returns what it threw.
 * Resolves with `error: undefined` when `start` succeeded.
 */
export async function recordStartup(start: (logger: CapturingLogger) => Promise<unknown>): Promise<StartupRecord> {
  const logger = new CapturingLogger();
  Logger.overrideLogger(logger);
  let written = '';
  const stdout = process.stdout.write.bind(process.stdout);
  const stderr = process.stderr.write.bind(process.stderr);
  const record = (chunk: unknown): void => {
    written += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
  };
  process.stdout.write = (chunk: string | Uint8Array, ...rest: never[]) => (record(chunk), stdout(chunk, ...rest));
  process.stderr.write = (chunk: string | Uint8Array, ...rest: never[]) => (record(chunk), stderr(chunk, ...rest));
  try {
    await start(logger);
    return { error: undefined, logger, written };
  } catch (error) {
    return { error, logger, written };
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  }
}

/** The text a secret must not appear in: the error with its causes and context, the log lines, the raw output. */
export function everythingShown(record: StartupRecord, ...more: string[]): string {
  return [inspect(record.error, { depth: 10 }), JSON.stringify(record.error), record.logger.text(), record.written, ...more].join('\n');
}

/** A secret's forms that could leak: as is and URL-encoded. */
export function formsOf(secret: string): string[] {
  return [...new Set([secret, encodeURIComponent(secret)])];
}
