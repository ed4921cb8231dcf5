import fc from 'fast-check';
import { DOMAIN_PATTERN, KanbanValidationError, PRIORITIES, encodeItem, decodeItem, validatePublishRequest, type PublishRequest, type WorkItem } from '@tps/kanban';
import { anyValue, nestedJsonText, publishRequestLike } from './support/arbitraries';

const MAX_PAYLOAD_BYTES = 512;
const NOW = 1_900_000_000_000;
const RUNS = 2_000;

type Outcome = { kind: 'item'; item: WorkItem } | { kind: 'rejected'; error: KanbanValidationError } | { kind: 'other'; error: unknown };

function validate(request: unknown): Outcome {
  try {
    return { kind: 'item', item: validatePublishRequest(request as PublishRequest, MAX_PAYLOAD_BYTES, NOW) };
  } catch (error) {
    return error instanceof KanbanValidationError ? { kind: 'rejected', error } : { kind: 'other', error };
  }
}

/** validatePublishRequest is the gate in front of every broker: whatever it is given, it returns a sound item or a KanbanValidationError. */
describe('validatePublishRequest, property-based', () => {
  it('throws nothing but KanbanValidationError, for any value at all', () => {
    fc.assert(
      fc.property(anyValue, (request) => {
        const outcome = validate(request);

        expect(outcome.kind).not.toBe('other');
      }),
      { numRuns: RUNS },
    );
  });

  it('for near-valid requests, returns only items that are sound, or lists at least one field', () => {
    const seen = { item: 0, rejected: 0 };
    fc.assert(
      fc.property(publishRequestLike(), (request) => {
        const outcome = validate(request);

        expect(outcome.kind).not.toBe('other');
        seen[outcome.kind as 'item' | 'rejected']++;
        if (outcome.kind === 'rejected') {
          expect(outcome.error.errors.length).toBeGreaterThan(0);
          expect(outcome.error.errors.every((e) => typeof e.field === 'string' && typeof e.message === 'string')).toBe(true);
        }
        if (outcome.kind === 'item') {
          const { item } = outcome;
          expect(DOMAIN_PATTERN.test(item.domain)).toBe(true);
          expect(PRIORITIES).toContain(item.priority);
          expect(item.deadline).toBeGreaterThan(NOW);
          expect(Buffer.byteLength(JSON.stringify(item.payload))).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
          expect(Object.values(item.headers).every((value) => typeof value === 'string' && !/[\r\n\0]/.test(value))).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );

    // Both outcomes are exercised, so neither assertion above is vacuous.
    expect(seen.item).toBeGreaterThan(RUNS / 50);
    expect(seen.rejected).toBeGreaterThan(RUNS / 50);
  });

  it('lets every item it accepts through the codec as its JSON form', () => {
    fc.assert(
      fc.property(publishRequestLike(), fc.integer({ min: 1, max: 100 }), (request, attempts) => {
        const outcome = validate(request);
        fc.pre(outcome.kind === 'item');
        const item = (outcome as { item: WorkItem }).item;

        const decoded = decodeItem(encodeItem(item), attempts);

        // The payload travels as JSON: a Set or a sparse array arrives as JSON.stringify wrote it.
        expect(decoded).toEqual({ ...item, payload: JSON.parse(JSON.stringify(item.payload)), attempts });
      }),
      { numRuns: 500 },
    );
  });

  it('rejects a payload nested 10,000 deep with a field error, not a stack overflow', () => {
    const deep = JSON.parse(nestedJsonText(10_000));

    const outcome = validate({ priority: 'low', domain: 'orders', deadlineMs: 1000, payload: deep });

    expect(outcome.kind).toBe('rejected');
    expect((outcome as { error: KanbanValidationError }).error.errors.map((e) => e.field)).toEqual(['payload']);
  });
});
