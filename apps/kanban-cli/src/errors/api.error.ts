import { ExitCode, type ExitCodeValue } from '../exit-codes.constants';
import { CliError } from './cli.error';

/** The server's error body: `{statusCode, error, code, message, fields?}`. */
export interface ApiErrorBody {
  statusCode?: number;
  code?: string;
  message?: string | string[];
  fields?: { field: string; message: string }[];
}

function exitCodeOf(status: number): ExitCodeValue {
  if (status === 401 || status === 403) return ExitCode.auth;
  if (status === 404 || status === 409) return ExitCode.notFound;
  if (status === 429 || status === 502 || status === 503 || status === 504) return ExitCode.unavailable;
  if (status >= 400 && status < 500) return ExitCode.rejected;
  return ExitCode.serverError;
}

function describe(status: number, body: ApiErrorBody): string {
  const message = Array.isArray(body.message) ? body.message.join('; ') : (body.message ?? 'an error without a kanban error body');
  return `${message} (${status}${body.code ? ` ${body.code}` : ''})`;
}

/** The server answered with an error status; `code` is its stable code to branch on. */
export class ApiError extends CliError {
  readonly exitCode: ExitCodeValue;
  readonly code?: string;

  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(describe(status, body));
    this.name = 'ApiError';
    this.exitCode = exitCodeOf(status);
    this.code = body.code;
  }

  override toJSON(): Record<string, unknown> {
    return { status: this.status, code: this.code, message: this.body.message ?? this.message, ...(this.body.fields ? { fields: this.body.fields } : {}) };
  }
}
