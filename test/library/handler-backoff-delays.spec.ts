import fc from 'fast-check';
import { backoffDelayMs, BACKOFF_MAX_DELAY_MS } from '../../libs/kanban/src/worker/backoff';

const attempts = fc.integer({ min: 1, max: 200 });
const random = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe('handler backoff delays', () => {
  it('a fixed backoff waits its delay after every attempt', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 86_400_000 }), attempts, (delayMs, attempt) => {
        expect(backoffDelayMs({ type: 'fixed', delayMs }, attempt)).toBe(delayMs);
      }),
    );
  });

  it('a list gives the delay after attempt n, its last entry repeating', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 600_000 }), { minLength: 1, maxLength: 8 }), attempts, (list, attempt) => {
        expect(backoffDelayMs(list, attempt)).toBe(list[Math.min(attempt, list.length) - 1]);
      }),
    );
  });

  it('an exponential backoff with jitter j stays within [d × (1 − j), d], d = min(delayMs × 2^(n−1), maxDelayMs)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60_000 }),
        fc.option(fc.integer({ min: 60_000, max: 3_600_000 }), { nil: undefined }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        attempts,
        random,
        (delayMs, maxDelayMs, jitter, attempt, r) => {
          const delay = backoffDelayMs({ type: 'exponential', delayMs, maxDelayMs, jitter }, attempt, () => r);
          const full = Math.min(delayMs * 2 ** (attempt - 1), maxDelayMs ?? BACKOFF_MAX_DELAY_MS);
          expect(Number.isSafeInteger(delay)).toBe(true);
          expect(delay).toBeLessThanOrEqual(full);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(full * (1 - jitter)));
        },
      ),
    );
  });

  it('an exponential backoff without jitter doubles from delayMs until its cap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 30 }), (delayMs, attempt) => {
        const maxDelayMs = delayMs * 64;
        const next = backoffDelayMs({ type: 'exponential', delayMs, maxDelayMs }, attempt + 1);
        const current = backoffDelayMs({ type: 'exponential', delayMs, maxDelayMs }, attempt);
        expect(next).toBe(Math.min(current * 2, maxDelayMs));
        expect(backoffDelayMs({ type: 'exponential', delayMs, maxDelayMs }, 1)).toBe(delayMs);
      }),
    );
  });
});
