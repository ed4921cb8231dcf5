import { PRIORITIES } from '../kanban.constants';
import { KanbanValidationError } from '../errors';
import { domainError } from '../validation';
import type { LeaseRef } from '../interfaces/delivery.interface';
import type { Priority } from '../interfaces/work-item.interface';

/**
 * The lease a caller holds is `{priority}.{publishedAt}.{transport lease}`: the priority finds the
 * right queue for `ack(id, domain, lease)` (the spec's shape plus the fencing token), and the
 * publish time lets any ack, a worker's or one over HTTP at any server instance, record the item's
 * publish-to-ack latency. Only the transport lease fences; a caller who alters the publish time
 * skews the latency metric and nothing else.
 */
export function toLeaseHandle(priority: Priority, publishedAt: number, transportLease: string): string {
  return `${priority}.${publishedAt}.${transportLease}`;
}

export interface ParsedLeaseHandle {
  ref: LeaseRef;
  publishedAt: number;
}

/** @throws KanbanValidationError when the domain is invalid or the handle was not issued by `pull`. */
export function fromLeaseHandle(id: string, domain: string, handle: string): ParsedLeaseHandle {
  const invalidDomain = domainError(domain);
  if (invalidDomain) throw new KanbanValidationError([{ field: 'domain', message: invalidDomain }]);
  const match = typeof handle === 'string' ? LEASE_HANDLE.exec(handle) : null;
  const priority = match?.[1] as Priority | undefined;
  if (!match || !priority || !PRIORITIES.includes(priority)) {
    throw new KanbanValidationError([{ field: 'lease', message: 'must be the lease returned with the pulled item' }]);
  }
  return { ref: { id, domain, priority, lease: match[3] }, publishedAt: Number(match[2]) };
}

const LEASE_HANDLE = /^([a-z]+)\.(\d{1,15})\.(.+)$/s;
