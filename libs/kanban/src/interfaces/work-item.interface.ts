import type { PRIORITIES } from '../kanban.constants';

export type Priority = (typeof PRIORITIES)[number];

/** Broker that holds an item: one of the built-in transports, `outbox` while every broker is down, or a custom transport's name. */
export type BrokerName = 'nats' | 'rabbitmq' | 'embedded' | 'outbox' | (string & {});

/** What a producer hands to `KanbanQueue.publish`. */
export interface PublishRequest {
  priority: Priority;
  domain: string;
  /** Any JSON value; its encoded size must stay within `maxPayloadBytes`. */
  payload: unknown;
  /** Absolute deadline in epoch ms; must be in the future. Give this or `deadlineMs`. */
  deadline?: number;
  /** Deadline relative to now, in ms. Give this or `deadline`. */
  deadlineMs?: number;
  /** Publishes with the same key inside the dedup window become one item. */
  idempotencyKey?: string;
  /** String map carried with the item, e.g. trace context. */
  headers?: Record<string, string>;
  /** Tenant key for fair share within the domain (see the README's groups); absent = the default group. */
  group?: string;
}

/** An item as stored by a broker. */
export interface WorkItem {
  id: string;
  priority: Priority;
  domain: string;
  payload: unknown;
  /** Epoch ms. */
  deadline: number;
  /** Epoch ms. */
  publishedAt: number;
  /** Delivery count; 1 on the first delivery. */
  attempts: number;
  idempotencyKey?: string;
  headers: Record<string, string>;
  /** Absent = the default group. */
  group?: string;
}

export interface PublishReceipt {
  id: string;
  broker: BrokerName;
  /** True when the publish was folded into an earlier one with the same idempotencyKey. */
  duplicate: boolean;
}
