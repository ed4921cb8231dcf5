/**
 * This instance's part of `needed` workers split across the live instances `ids` (this one
 * included): equal parts, the remainder one each to the first ids in sorted order, so the parts
 * every instance computes from the same view add up to `needed`.
 */
export function fleetShare(needed: number, ids: readonly string[], self: string): number {
  const order = [...new Set([...ids, self])].sort();
  const base = Math.floor(needed / order.length);
  return base + (order.indexOf(self) < needed % order.length ? 1 : 0);
}
