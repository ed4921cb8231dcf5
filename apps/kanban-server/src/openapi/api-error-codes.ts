import { KANBAN_ERROR_STATUS, codeOfStatus, internalErrorBody } from '@tps/kanban';
import { CSRF_CODE } from '../auth/csrf.exception';
import { READ_ONLY_CODE } from '../auth/read-only.exception';
import { RATE_LIMITED_CODE } from '../errors/api-exception.filter';
import { HOST_NOT_ALLOWED_CODE } from '../http/host-not-allowed.exception';

/** Nest HttpExceptions the server raises with the code of their status: bad JSON, no token, unknown route, body over the limit. */
const HTTP_EXCEPTION_STATUSES = [400, 401, 404, 413] as const;

/**
 * Every `code` an error body can carry, with its status, from the places that decide them: the
 * library's error table, the 500, the rate limit, the host allowlist, the token guard's refusals
 * of a mutation and Nest's HttpExceptions.
 */
export const API_ERROR_STATUS: ReadonlyMap<string, number> = new Map<string, number>([
  ...KANBAN_ERROR_STATUS.map(([, { code, status }]): [string, number] => [code, status]),
  [internalErrorBody().code, 500],
  [RATE_LIMITED_CODE, 429],
  [HOST_NOT_ALLOWED_CODE, 403],
  [READ_ONLY_CODE, 403],
  [CSRF_CODE, 403],
  ...HTTP_EXCEPTION_STATUSES.map((status): [string, number] => [codeOfStatus(status), status]),
]);

/** @throws Error when `code` is not one the server can answer with: a decorator naming it would describe a wrong API. */
export function statusOfApiErrorCode(code: string): number {
  const status = API_ERROR_STATUS.get(code);
  if (status === undefined) throw new Error(`Unknown API error code '${code}': add it to API_ERROR_STATUS where the server answers with it`);
  return status;
}
