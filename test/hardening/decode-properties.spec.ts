import fc from 'fast-check';
import { DOMAIN_PATTERN, MalformedItemError, PRIORITIES, decodeItem, encodeItem, validatePublishRequest, type WorkItem } from '@tps/kanban';
import { damagedItemBytes, nearItemBytes, nestedJsonText, validItem } from './support/arbitraries';

const RUNS = 2_000;

type Outcome = { kind: 'item'; item: WorkItem } | { kind: 'malformed' } | { kind: 'other'; error: unknown };

function decode(bytes: Uint8Array): Outcome {
  try {
    return { kind: 'item', item: decodeItem(bytes, 1) };
  } catch (error) {
    return error instanceof MalformedItemError ? { kind: 'malformed' } : { kind: 'other', error };
  }
}

/** An item decoded from the wire could be published again on replay: it must be as sound as one that passed validation. */
function expectSound(item: WorkItem): void {
  expect(typeof item.id).toBe('string');
  expect(item.id.length).toBeGreaterThan(0);
  expect(PRIORITIES).toContain(item.priority);
  expect(DOMAIN_PATTERN.test(item.domain)).toBe(true);
  expect(Number.isFinite(item.deadline)).toBe(true);
  expect(Object.values(item.headers).every((value) => typeof value === 'string')).toBe(true);
}

/** decodeItem reads whatever a foreign publisher wrote on a kanban subject: it returns a sound item or throws MalformedItemError. */
describe('decodeItem, property-based', () => {
  it.each([
    ['random bytes', fc.uint8Array({ maxLength: 512 })],
    ['any JSON value', fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? 'null', 'utf8'))],
    ['an item with one field changed or missing', nearItemBytes],
    ['an item with bytes overwritten or cut off', damagedItemBytes],
  ])('never throws anything but MalformedItemError for %s', (_case, bytes: fc.Arbitrary<Uint8Array>) => {
    fc.assert(
      fc.property(bytes, (input) => {
        const outcome = decode(input);

        expect(outcome.kind).not.toBe('other');
        if (outcome.kind === 'item') expectSound(outcome.item);
      }),
      { numRuns: RUNS },
    );
  });

  it('decodes every encoded item to itself, its payload as JSON carries it', () => {
    fc.assert(
      fc.property(validItem, fc.integer({ min: 1, max: 1000 }), (item, attempts) => {
        // JSON has no -0: a payload holding it comes back as 0.
        expect(decodeItem(encodeItem(item), attempts)).toEqual({ ...item, payload: JSON.parse(JSON.stringify(item.payload)), attempts });
      }),
      { numRuns: 500 },
    );
  });

  it('refuses an item whose JSON nests 10,000 deep in a field it checks, and keeps one nested in its payload', () => {
    const item = validatePublishRequest({ priority: 'high', domain: 'orders', payload: 0, deadlineMs: 60_000 }, 1_000);
    const wire = encodeItem(item).toString('utf8');

    const deepHeaders = decode(Buffer.from(wire.replace('"headers":{}', `"headers":${nestedJsonText(10_000)}`)));
    const deepPayload = decode(Buffer.from(wire.replace('"payload":0', `"payload":${nestedJsonText(10_000)}`)));

    expect(deepHeaders.kind).toBe('malformed');
    expect(deepPayload.kind).toBe('item');
  });
});
