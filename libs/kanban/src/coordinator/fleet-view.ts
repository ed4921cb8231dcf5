import type { Logger } from '@nestjs/common';
import type { FleetCoordination, FleetInstance } from '../transport/fleet-membership.interface';
import type { FleetHealth } from './coordinator-health.interface';
import { FLEET_MEMBER_TTL_ROUNDS } from './coordinator.constants';

/**
 * This instance's place in its fleet: announces it, keeps the other instances as last read from
 * the broker, and holds (or competes for) the coordinator lease. Without a fleet coordination
 * (the embedded store, a custom transport) the fleet is this instance alone and it leads.
 */
export class FleetView {
  /** The other instances as last read; this one is added from its own figures. */
  private others: FleetInstance[] = [];
  /** Only the first failed read of a streak is logged, not one per round while the broker is away. */
  private failing = false;
  private left = false;

  constructor(
    /** This instance's id (its relay holder id). */
    private readonly self: string,
    private readonly coordination: FleetCoordination | undefined,
    private readonly logger: Logger,
  ) {}

  /** Starts competing for the coordinator lease. */
  start(): void {
    this.coordination?.leadership.start();
  }

  /** True while this instance sweeps for the fleet: it holds the coordinator lease, or it is the fleet alone; never once it left. */
  isSweepLeader(): boolean {
    if (this.left) return false;
    return this.coordination ? this.coordination.leadership.isLeader() : true;
  }

  /** Announces `record` and reads the others back; on a failure the last view stays and the next round tries again. */
  async refresh(record: FleetInstance): Promise<void> {
    if (!this.coordination || this.left) return;
    try {
      await this.coordination.membership.announce(record);
      const members = await this.coordination.membership.members();
      this.others = members.filter((member) => member.id !== this.self);
      if (this.failing) this.logger.log('Fleet membership readable again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.logger.warn(`Fleet membership unavailable (autoscaling on the last view of ${this.others.length + 1} instance(s)): ${(error as Error).message}`);
      this.failing = true;
    }
  }

  /** Withdraws this instance and hands the lease over, so the others take its share and the sweep at once. Idempotent. */
  async leave(): Promise<void> {
    if (!this.coordination || this.left) return;
    this.left = true;
    try {
      await this.coordination.membership.leave(this.self);
    } catch (error) {
      this.logger.warn(`Fleet membership not withdrawn (it lapses after ${FLEET_MEMBER_TTL_ROUNDS} rounds): ${(error as Error).message}`);
    }
    await this.coordination.leadership.close();
    this.logger.log(`Left the fleet: ${this.others.length} other instance(s) take over`);
  }

  /** Ids of the instances sharing the work: the live, non-draining ones, this one included. */
  sharingIds(): string[] {
    return [this.self, ...this.others.filter((member) => !member.draining).map((member) => member.id)];
  }

  /** The fleet with this instance's `record` first (until it left). */
  health(record: FleetInstance, depth: number | null): FleetHealth {
    const instances = this.left ? [...this.others] : [record, ...this.others];
    return {
      instances,
      sweep_leader: instances.find((instance) => instance.sweep_leader)?.id ?? null,
      total_workers: instances.reduce((sum, instance) => sum + instance.current_workers, 0),
      depth,
    };
  }
}
