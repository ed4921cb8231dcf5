/** Env var that replays a chaos run: the seed its report line printed. */
export const CHAOS_SEED_ENV = 'KANBAN_CHAOS_SEED';

/** The seed of this run: KANBAN_CHAOS_SEED when set (to replay a failure), else a fresh one. */
export function chaosSeed(): number {
  const fromEnv = process.env[CHAOS_SEED_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    const seed = Number(fromEnv);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`${CHAOS_SEED_ENV} must be a non-negative integer, got ${fromEnv}`);
    return seed;
  }
  return Math.floor(Math.random() * 2 ** 31);
}

/** mulberry32: a small seeded generator, uniform in [0, 1). Same seed, same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** An integer in [min, max] from `random`. */
export function between(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}
