import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The first of `candidates` that exists: a bare name is searched on PATH, a path is taken as is. */
export function findBinary(candidates: readonly string[]): string | undefined {
  for (const candidate of candidates) {
    if (candidate.includes('/')) {
      if (existsSync(candidate)) return candidate;
      continue;
    }
    for (const dir of (process.env.PATH ?? '').split(':')) {
      if (dir && existsSync(join(dir, candidate))) return join(dir, candidate);
    }
  }
  return undefined;
}
