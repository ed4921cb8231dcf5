import type { BrokerName } from '../interfaces/work-item.interface';

export interface CanaryResult {
  jobId: string;
  itemId: string;
  domain: string;
  broker: BrokerName;
  /** Epoch ms. */
  publishedAt: number;
  status: 'pending' | 'acked' | 'dead_lettered';
  /** Publish to settle, once settled. */
  latencyMs?: number;
  error?: string;
}
