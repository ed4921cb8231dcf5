import { KanbanConfigError } from '../errors';
import { DOMAIN_PATTERN } from '../kanban.constants';
import type { TransportSettings } from '../transport/kanban-transport';

const DOMAIN_DEFAULT_KEYS: ReadonlySet<string> = new Set(['maxInFlightPerGroup', 'groupRatePerSecond']);

function isPositiveInteger(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) > 0;
}

function isPositiveRate(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

/** The two per-group limits, as `groups.*` or `groups.domains.<domain>.*` (`prefix`) names them. */
function checkLimitDefaults(limits: { maxInFlightPerGroup?: number; groupRatePerSecond?: number }, prefix: string): void {
  if (limits.maxInFlightPerGroup !== undefined && !isPositiveInteger(limits.maxInFlightPerGroup)) {
    throw new KanbanConfigError(`${prefix}.maxInFlightPerGroup`, `must be a positive integer when set, got ${String(limits.maxInFlightPerGroup)}`);
  }
  if (limits.groupRatePerSecond !== undefined && !isPositiveRate(limits.groupRatePerSecond)) {
    throw new KanbanConfigError(`${prefix}.groupRatePerSecond`, `must be a finite number above 0 when set, got ${String(limits.groupRatePerSecond)}`);
  }
}

/**
 * Checks the resolved `groups` options: positive integer limits and window, a finite positive
 * rate, domain keys a domain can have, a boolean `metrics`.
 * @throws KanbanConfigError naming the first bad setting, e.g. `groups.domains.billing.maxInFlightPerGroup`.
 */
export function validateGroupOptions(groups: TransportSettings['groups']): void {
  checkLimitDefaults(groups, 'groups');
  if (!isPositiveInteger(groups.window)) throw new KanbanConfigError('groups.window', `must be a positive integer, got ${String(groups.window)}`);
  if (typeof groups.metrics !== 'boolean') throw new KanbanConfigError('groups.metrics', `must be true or false, got ${String(groups.metrics)}`);
  for (const [domain, defaults] of Object.entries(groups.domains)) {
    const prefix = `groups.domains.${domain}`;
    if (!DOMAIN_PATTERN.test(domain)) throw new KanbanConfigError(prefix, `is no domain: a domain must match ${DOMAIN_PATTERN.source}`);
    if (typeof defaults !== 'object' || defaults === null || Array.isArray(defaults)) {
      throw new KanbanConfigError(prefix, 'must be { maxInFlightPerGroup?, groupRatePerSecond? }');
    }
    const unknown = Object.keys(defaults).find((key) => !DOMAIN_DEFAULT_KEYS.has(key));
    if (unknown !== undefined) throw new KanbanConfigError(`${prefix}.${unknown}`, 'is no per-domain group setting: use maxInFlightPerGroup or groupRatePerSecond');
    checkLimitDefaults(defaults, prefix);
  }
}
