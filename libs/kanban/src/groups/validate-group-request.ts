import { KanbanValidationError, type FieldError } from '../errors';
import { GROUP_CURSOR_MAX_LENGTH, GROUP_PAGE_MAX_LIMIT, type GroupFilter, type GroupLimits } from '../interfaces/group.interface';
import { domainError, groupError } from '../validation';

const LIMIT_FIELDS: ReadonlySet<string> = new Set(['maxInFlight', 'ratePerSecond']);

function pushIf(errors: FieldError[], field: string, message: string | undefined): void {
  if (message !== undefined) errors.push({ field, message });
}

function limitsErrors(limits: unknown, errors: FieldError[]): void {
  if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) {
    errors.push({ field: 'limits', message: 'must be an object { maxInFlight?, ratePerSecond? }; {} clears the limits' });
    return;
  }
  const { maxInFlight, ratePerSecond } = limits as Record<string, unknown>;
  if (maxInFlight !== undefined && (!Number.isSafeInteger(maxInFlight) || (maxInFlight as number) < 1)) {
    errors.push({ field: 'maxInFlight', message: 'must be a positive integer' });
  }
  if (ratePerSecond !== undefined && (typeof ratePerSecond !== 'number' || !Number.isFinite(ratePerSecond) || ratePerSecond <= 0)) {
    errors.push({ field: 'ratePerSecond', message: 'must be a finite number above 0' });
  }
  for (const key of Object.keys(limits)) {
    if (!LIMIT_FIELDS.has(key)) errors.push({ field: key, message: 'is no group limit: use maxInFlight or ratePerSecond' });
  }
}

/**
 * @returns the limits to store, or null for `{}` (back to the options' defaults).
 * @throws KanbanValidationError naming every bad field.
 */
export function validateGroupLimitsRequest(domain: string, group: string, limits: GroupLimits): GroupLimits | null {
  const errors: FieldError[] = [];
  pushIf(errors, 'domain', domainError(domain));
  pushIf(errors, 'group', groupError(group));
  limitsErrors(limits, errors);
  if (errors.length) throw new KanbanValidationError(errors);
  const { maxInFlight, ratePerSecond } = limits;
  if (maxInFlight === undefined && ratePerSecond === undefined) return null;
  return { ...(maxInFlight !== undefined ? { maxInFlight } : {}), ...(ratePerSecond !== undefined ? { ratePerSecond } : {}) };
}

/** @throws KanbanValidationError naming every bad field. */
export function validateGroupListing(domain: string, filter: GroupFilter): void {
  const errors: FieldError[] = [];
  pushIf(errors, 'domain', domainError(domain));
  const { limit, cursor } = filter;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1 || limit > GROUP_PAGE_MAX_LIMIT)) {
    errors.push({ field: 'limit', message: `must be an integer from 1 to ${GROUP_PAGE_MAX_LIMIT}` });
  }
  if (cursor !== undefined && (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > GROUP_CURSOR_MAX_LENGTH)) {
    errors.push({ field: 'cursor', message: 'must be a nextCursor returned by a previous listing' });
  }
  if (errors.length) throw new KanbanValidationError(errors);
}
