import type { Delivery, WorkItem } from '@tps/kanban';

/** One item as `POST /work/pull` returns it: the item, how often it was delivered, and the lease to settle it with. */
export interface PulledItem extends WorkItem {
  /** Opaque: pass it back on ack, nack, retry and extend. */
  lease: string;
  /** Epoch ms estimate of when the lease lapses and the item may go to another worker. */
  leaseExpiresAt: number;
}

export function toPulledItem({ item, lease, leaseExpiresAt }: Delivery): PulledItem {
  return {
    id: item.id,
    priority: item.priority,
    domain: item.domain,
    payload: item.payload,
    deadline: item.deadline,
    publishedAt: item.publishedAt,
    attempts: item.attempts,
    headers: item.headers,
    ...(item.idempotencyKey !== undefined ? { idempotencyKey: item.idempotencyKey } : {}),
    ...(item.group !== undefined ? { group: item.group } : {}),
    lease,
    leaseExpiresAt,
  };
}
