import type { BrokerName } from '../interfaces/work-item.interface';
import type { TransportState } from '../transport/kanban-transport';
import type { CanaryResult } from '../canary/canary-result.interface';

/** The spec's health shape, plus the broker and canary status. */
export interface CoordinatorHealth {
  current_workers: number;
  target_workers: number;
  /** Total depth, oldest first, the last 10 samples. */
  queue_depth_samples: number[];
  queue_draining: boolean;
  /** Epoch ms. */
  timestamp: number;
  broker: { active: BrokerName; state: TransportState };
  open_circuit_breakers: number;
  canaries: CanaryResult[];
}
