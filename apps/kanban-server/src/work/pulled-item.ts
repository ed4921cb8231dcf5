import type { Delivery, Priority } from '@tps/kanban';

/** One item as `POST /work/pull` returns it: the item, how often it was delivered, and the lease to settle it with. */
export interface PulledItem {
  id: string;
  priority: Priority;
  domain: string;
  payload: unknown;
  /** Epoch ms. */
  deadline: number;
  /** Epoch ms. */
  publishedAt: number;
  /** Delivery count, 1 on the first delivery. */
  attempts: number;
  headers: Record<string, string>;
  idempotencyKey?: string;
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
    lease,
    leaseExpiresAt,
  };
}
