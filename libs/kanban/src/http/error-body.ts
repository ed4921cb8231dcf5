import { STATUS_CODES } from 'node:http';
import type { FieldError } from '../errors';

const INTERNAL_ERROR_MESSAGE = 'Internal server error';
const INTERNAL_ERROR_CODE = 'internal_error';

/** The body of every error response. `fields` is there on 400s caused by bad input. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  /** Stable and machine-readable (`queue_full`, `lease_expired`, ...): clients branch on it, never on `message`. */
  code: string;
  message: string | string[];
  fields?: FieldError[];
}

/** The code of a status that has no more specific one: its reason phrase in snake case (`payload_too_large`). */
export function codeOfStatus(statusCode: number): string {
  return (STATUS_CODES[statusCode] ?? 'Error').toLowerCase().replace(/[^a-z0-9]+/g, '_');
}

export function errorBody(statusCode: number, message: string | string[], code = codeOfStatus(statusCode)): ErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', code, message };
}

/** The 400 for bad input, the same whether class-validator or the library found it. */
export function validationErrorBody(fields: FieldError[]): ErrorBody {
  return {
    ...errorBody(
      400,
      fields.map((f) => `${f.field} ${f.message}`),
      'validation_failed',
    ),
    fields,
  };
}

/** The 500: says nothing about the internals; the cause goes to the log. */
export function internalErrorBody(): ErrorBody {
  return errorBody(500, INTERNAL_ERROR_MESSAGE, INTERNAL_ERROR_CODE);
}
