import type { GroupLimits, KanbanGroupOptions } from '../interfaces/group.interface';

/** A group's limits in force, and its run-time override if it has one. */
export interface EffectiveGroupLimits {
  limits: GroupLimits;
  override?: GroupLimits;
}

/**
 * The limits in force for a group of `domain`, field by field: its run-time override, else the
 * domain's defaults, else the global ones. One rule for every transport and the groups API.
 */
export function groupLimitsInForce(options: Pick<KanbanGroupOptions, 'maxInFlightPerGroup' | 'groupRatePerSecond' | 'domains'>, domain: string, override?: GroupLimits): GroupLimits {
  const domainDefaults = options.domains?.[domain];
  const maxInFlight = override?.maxInFlight ?? domainDefaults?.maxInFlightPerGroup ?? options.maxInFlightPerGroup;
  const ratePerSecond = override?.ratePerSecond ?? domainDefaults?.groupRatePerSecond ?? options.groupRatePerSecond;
  return { ...(maxInFlight !== undefined ? { maxInFlight } : {}), ...(ratePerSecond !== undefined ? { ratePerSecond } : {}) };
}
