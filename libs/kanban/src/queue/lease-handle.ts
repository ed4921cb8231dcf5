import { PRIORITIES } from '../kanban.constants';
import { KanbanValidationError } from '../errors';
import { domainError } from '../validation';
import type { LeaseRef } from '../interfaces/delivery.interface';
import type { Priority } from '../interfaces/work-item.interface';

/**
 * The lease a caller holds is the transport's lease prefixed with the item's priority, so that
 * `ack(id, domain, lease)` (the spec's shape plus the fencing token) finds the right queue.
 */
export function toLeaseHandle(priority: Priority, transportLease: string): string {
  return `${priority}.${transportLease}`;
}

/** @throws KanbanValidationError when the domain is invalid or the handle was not issued by `pull`. */
export function fromLeaseHandle(id: string, domain: string, handle: string): LeaseRef {
  const invalidDomain = domainError(domain);
  if (invalidDomain) throw new KanbanValidationError([{ field: 'domain', message: invalidDomain }]);
  const dot = typeof handle === 'string' ? handle.indexOf('.') : -1;
  const priority = dot > 0 ? (handle.slice(0, dot) as Priority) : undefined;
  if (!priority || !PRIORITIES.includes(priority) || dot === handle.length - 1) {
    throw new KanbanValidationError([{ field: 'lease', message: 'must be the lease returned with the pulled item' }]);
  }
  return { id, domain, priority, lease: handle.slice(dot + 1) };
}
