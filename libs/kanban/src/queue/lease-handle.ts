import { PRIORITIES } from '../kanban.constants';
import { KanbanValidationError } from '../errors';
import { domainError } from '../validation';
import type { LeaseRef } from '../interfaces/delivery.interface';
import type { Priority } from '../interfaces/work-item.interface';

/**
 * The lease a caller holds is `{priority}[:{group}].{publishedAt}.{holder}.{transport lease}`: the
 * priority finds the right queue for `ack(id, domain, lease)` (the spec's shape plus the fencing
 * token), the group (when the item has one) and the publish time let any settle record per-group
 * counts and the publish-to-ack latency, and the holder names the instance whose transport holds
 * the delivery, so a settle at any instance is relayed there. Only the holder's transport fences:
 * a caller who alters the holder reaches no instance or one that never handed the lease out
 * (refused either way); one who alters the group or the publish time skews a metric and nothing else.
 */
export function toLeaseHandle(priority: Priority, group: string | undefined, publishedAt: number, holder: string, transportLease: string): string {
  return `${priority}${group !== undefined ? `:${group}` : ''}.${publishedAt}.${holder}.${transportLease}`;
}

export interface ParsedLeaseHandle {
  ref: LeaseRef;
  /** The item's group; undefined for the default group. */
  group?: string;
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
  return { ref: { id, domain, priority, lease: match[5] }, ...(match[2] !== undefined ? { group: match[2] } : {}), publishedAt: Number(match[3]), holder: match[4] };
}

const LEASE_HANDLE = /^([a-z]+)(?::([a-z][a-z0-9_-]{0,63}))?\.(\d{1,15})\.([a-z0-9]{1,64})\.(.+)$/s;
