/** Coordinator lease: after the sweeping instance dies, another one sweeps within this plus one check interval. */
export const DEFAULT_COORDINATOR_LEASE_MS = 3_000;
/** Coordinator rounds an instance may miss before the fleet drops it: one late round is not a death. */
export const FLEET_MEMBER_TTL_ROUNDS = 3;
