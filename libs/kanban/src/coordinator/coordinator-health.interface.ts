import type { BrokerName } from '../interfaces/work-item.interface';
import type { TransportState } from '../transport/kanban-transport';
import type { FleetInstance } from '../transport/fleet-membership.interface';
import type { CanaryResult } from '../canary/canary-result.interface';

/** The fleet as this instance last read it from the broker (once per coordinator round). */
export interface FleetHealth {
  /** Live instances, this one first while it has not left (draining instances leave at once). */
  instances: FleetInstance[];
  /** Id of the instance that sweeps stalled items for the fleet; null while none holds the lease. */
  sweep_leader: string | null;
  /** Running workers across the instances. */
  total_workers: number;
  /** Total depth of the shared queues at the last sample; null before the first. */
  depth: number | null;
}

/** The spec's health shape, plus the broker and canary status, and the fleet. */
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
  fleet: FleetHealth;
}
