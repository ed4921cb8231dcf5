import type { FleetCoordination, FleetInstance, FleetMembership } from '../../transport/fleet-membership.interface';
import type { LeaseLeadership } from '../../transport/lease-leadership.interface';

/**
 * The fleet of a failover pair: every instance announces on both brokers and reads the view of
 * the primary while it is available, else the fallback's, so an outage of the primary does not
 * empty the fleet. The same goes for the coordinator lease: two instances that disagree for a
 * moment about which broker is available may both sweep in that moment, as one instance sweeping
 * twice would (the second sweep finds what the first moved gone).
 */
export function failoverFleet(primary: FleetCoordination, fallback: FleetCoordination, primaryAvailable: () => boolean): FleetCoordination {
  return {
    membership: new FailoverFleetMembership(primary.membership, fallback.membership, primaryAvailable),
    leadership: new FailoverLeaseLeadership(primary.leadership, fallback.leadership, primaryAvailable),
  };
}

class FailoverFleetMembership implements FleetMembership {
  constructor(
    private readonly primary: FleetMembership,
    private readonly fallback: FleetMembership,
    private readonly primaryAvailable: () => boolean,
  ) {}

  announce(instance: FleetInstance): Promise<void> {
    return onBoth([this.primary, this.fallback], (membership) => membership.announce(instance));
  }

  members(): Promise<FleetInstance[]> {
    return (this.primaryAvailable() ? this.primary : this.fallback).members();
  }

  leave(id: string): Promise<void> {
    return onBoth([this.primary, this.fallback], (membership) => membership.leave(id));
  }
}

class FailoverLeaseLeadership implements LeaseLeadership {
  constructor(
    private readonly primary: LeaseLeadership,
    private readonly fallback: LeaseLeadership,
    private readonly primaryAvailable: () => boolean,
  ) {}

  get epoch(): number {
    return this.primary.epoch + this.fallback.epoch;
  }

  start(): void {
    this.primary.start();
    this.fallback.start();
  }

  isLeader(): boolean {
    return (this.primaryAvailable() ? this.primary : this.fallback).isLeader();
  }

  async close(): Promise<void> {
    await Promise.all([this.primary.close(), this.fallback.close()]);
  }
}

/** Runs `call` on both; rejects with the first error only when neither succeeded (the view read needs just one). */
async function onBoth(memberships: FleetMembership[], call: (membership: FleetMembership) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(memberships.map(call));
  const failures = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failures.length === results.length) throw failures[0].reason;
}
