import type { BrokerName } from '../interfaces/work-item.interface';
import type { LeaseLeadership } from './lease-leadership.interface';
import type { TransportState } from './kanban-transport';

/** What one instance announces to its fleet, in the health output's spelling. */
export interface FleetInstance {
  /** The instance's relay holder id: the id its leases carry. */
  id: string;
  host: string;
  pid: number;
  /** Epoch ms. */
  started_at: number;
  current_workers: number;
  target_workers: number;
  draining: boolean;
  broker: { active: BrokerName; state: TransportState };
  /** Total depth at the instance's last sample; null before its first. */
  last_sample: { depth: number; at: number } | null;
  /** True while the instance holds the coordinator lease (it runs the fleet's stalled sweep). */
  sweep_leader: boolean;
  /** Epoch ms of this announcement. */
  announced_at: number;
}

/**
 * The live instances of a fleet, kept on the broker: each announces itself every coordinator round
 * and its record lapses after a TTL unless renewed, so an instance killed without a goodbye drops out.
 */
export interface FleetMembership {
  /** Announces or renews `instance`; its record lapses after the membership's TTL. @throws KanbanError when the broker refuses it. */
  announce(instance: FleetInstance): Promise<void>;
  /** The instances whose records have not lapsed, in no particular order. @throws KanbanError when the broker cannot be read. */
  members(): Promise<FleetInstance[]>;
  /** Withdraws `id`'s record at once: a draining instance leaves before it stops. */
  leave(id: string): Promise<void>;
}

/** A transport's fleet view and its coordinator lease; see `KanbanTransport.fleetCoordination`. */
export interface FleetCoordination {
  membership: FleetMembership;
  /** Held by the one instance that sweeps stalled items for the fleet. */
  leadership: LeaseLeadership;
}

/** How long records and the coordinator lease last. */
export interface FleetSettings {
  /** A member not renewed within this drops out of the fleet. */
  memberTtlMs: number;
  /** The coordinator lease: a dead leader's sweep moves to another instance within it. */
  leaseMs: number;
}
