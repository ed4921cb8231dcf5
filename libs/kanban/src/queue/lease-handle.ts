import { PRIORITIES } from '../kanban.constants';
import { KanbanValidationError } from '../errors';
import { domainError } from '../validation';
import type { LeaseRef } from '../interfaces/delivery.interface';
import type { Priority } from '../interfaces/work-item.interface';

/**
 * The lease a caller holds is `{priority}.{publishedAt}.{holder}.{transport lease}`: the priority
 * finds the right queue for `ack(id, domain, lease)` (the spec's shape plus the fencing token), the
 * publish time lets any ack record the item's publish-to-ack latency, and the holder names the
 * instance whose transport holds the delivery, so a settle at any instance is relayed there. Only
 * the holder's transport fences: a caller who alters the holder reaches no instance or one that
 * never handed the lease out (refused either way); one who alters the publish time skews the
 * latency metric and nothing else.
 */
export function toLeaseHandle(priority: Priority, publishedAt: number, holder: string, transportLease: string): string {
  return `${priority}.${publishedAt}.${holder}.${transportLease}`;
}

export interface ParsedLeaseHandle {
  ref: LeaseRef;
  publishedAt: number;
  holder: string;
}

/** An instance id as SettleRelay makes them: safe as a NATS subject token and in a RabbitMQ queue name. */
export const HOLDER_PATTERN = /^[a-z0-9]{1,64}$/;

/** @throws KanbanValidationError when the domain is invalid or the handle was not issued by `pull`. */
export function fromLeaseHandle(id: string, domain: string, handle: string): ParsedLeaseHandle {
  const invalidDomain = domainError(domain);
  if (invalidDomain) throw new KanbanValidationError([{ field: 'domain', message: invalidDomain }]);
  const match = typeof handle === 'string' ? LEASE_HANDLE.exec(handle) : null;
  const priority = match?.[1] as Priority | undefined;
  if (!match || !priority || !PRIORITIES.includes(priority)) {
    throw new KanbanValidationError([{ field: 'lease', message: 'must be the lease returned with the pulled item' }]);
  }
  return { ref: { id, domain, priority, lease: match[4] }, publishedAt: Number(match[2]), holder: match[3] };
}

const LEASE_HANDLE = /^([a-z]+)\.(\d{1,15})\.([a-z0-9]{1,64})\.(.+)$/s;
