import { STATUS_CODES } from 'node:http';
import type { FieldError } from '../errors';

const INTERNAL_ERROR_MESSAGE = 'Internal server error';

/** The body of every error response. `fields` is there on 400s caused by bad input. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string | string[];
  fields?: FieldError[];
}

export function errorBody(statusCode: number, message: string | string[]): ErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

/** The 400 for bad input, the same whether class-validator or the library found it. */
export function validationErrorBody(fields: FieldError[]): ErrorBody {
  return { ...errorBody(400, fields.map((f) => `${f.field} ${f.message}`)), fields };
}

/** The 500: says nothing about the internals; the cause goes to the log. */
export function internalErrorBody(): ErrorBody {
  return errorBody(500, INTERNAL_ERROR_MESSAGE);
}
