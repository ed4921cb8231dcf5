import { UsageError } from '../errors';

/**
 * `value` as one URL path segment. `.` and `..` are refused: the URL parser would resolve them and
 * send the request to another route (`kanban dlq purge ..` would be `DELETE /`).
 * @throws UsageError
 */
export function pathSegment(value: string, what: string, command: string): string {
  if (value === '' || value === '.' || value === '..') throw new UsageError(`"${value}" is not a ${what}`, command);
  return encodeURIComponent(value);
}
