import fc from 'fast-check';
import { DOMAIN_PATTERN, MalformedItemError, PRIORITIES, decodeItem, encodeItem, validatePublishRequest, type WorkItem } from '@tps/kanban';
import { HOSTILE_DOMAINS } from './hostile-inputs';

/** Any JS value fast-check can build: boxed values, Maps, typed arrays, null prototypes, BigInts, sparse arrays. */
export const anyValue = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  withUnicodeString: true,
});

export const validDomain = fc.stringMatching(DOMAIN_PATTERN);
export const hostileDomain = fc.oneof(fc.constantFrom(...HOSTILE_DOMAINS.map(([, domain]) => domain)), fc.string({ unit: 'binary', maxLength: 80 }));

/** Text nested `depth` deep as JSON arrays (JSON.stringify of such a value overflows the stack). */
export function nestedJsonText(depth: number, leaf = '0'): string {
  return `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`;
}

/** One field of a publish request: mostly valid, sometimes hostile, now and then any value at all. */
function field<T>(valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof({ arbitrary: valid, weight: 12 }, { arbitrary: hostile, weight: 1 }, { arbitrary: anyValue, weight: 1 });
}

const deadlineFields = fc.oneof(
  fc.record({ deadlineMs: field(fc.integer({ min: 1, max: 86_400_000 }), fc.oneof(fc.double(), fc.integer({ max: 0 }), fc.constant(Number.MAX_VALUE))) }),
  fc.record({ deadline: field(fc.integer({ min: 2_000_000_000_000, max: 3_000_000_000_000 }), fc.oneof(fc.integer({ min: 0, max: 1_000_000_000_000 }), fc.double(), fc.string())) }),
  fc.record({ deadline: fc.integer({ min: 2_000_000_000_000, max: 3_000_000_000_000 }), deadlineMs: fc.integer({ min: 1, max: 1000 }) }),
  fc.constant({}),
);

const optionalFields = fc.record(
  {
    idempotencyKey: field(fc.stringMatching(/^[\x21-\x7e]{1,40}$/), fc.oneof(fc.string({ unit: 'binary' }), fc.string({ minLength: 257, maxLength: 300 }))),
    headers: field(
      fc.dictionary(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,20}$/), fc.string({ maxLength: 30 }), { maxKeys: 4 }),
      fc.oneof(fc.dictionary(fc.string({ unit: 'binary' }), anyValue, { maxKeys: 3 }), fc.array(fc.string())),
    ),
  },
  { requiredKeys: [] },
);

/**
 * Publish requests near the valid ones: each field is valid, hostile or anything, the deadline is
 * given one way, both ways or not at all. Valid requests come out often enough that both outcomes
 * are exercised.
 */
export function publishRequestLike(domains: fc.Arbitrary<string> = validDomain): fc.Arbitrary<Record<string, unknown>> {
  const required = fc.record({
    priority: field(fc.constantFrom(...PRIORITIES), fc.constantFrom('urgent', 'HIGH', '', ' high')),
    domain: field(domains, hostileDomain),
    payload: field(fc.jsonValue({ maxDepth: 4 }), fc.oneof(fc.constant(undefined), fc.bigInt(), fc.string({ minLength: 600, maxLength: 700 }))),
  });
  return fc.tuple(required, deadlineFields, optionalFields).map(([fields, deadline, optional]) => ({ ...fields, ...deadline, ...optional }));
}

/** Valid items as the queue builds them. */
export const validItem: fc.Arbitrary<WorkItem> = fc
  .record({ domain: validDomain, payload: fc.jsonValue({ maxDepth: 3 }), priority: fc.constantFrom(...PRIORITIES), deadlineMs: fc.integer({ min: 1, max: 10_000_000 }) })
  .map((request) => validatePublishRequest(request, 1_000_000));

/** Bytes that look like an item: a valid one's JSON with one field changed to any JSON value, or removed. */
export const nearItemBytes: fc.Arbitrary<Buffer> = fc
  .tuple(validItem, fc.constantFrom('id', 'priority', 'domain', 'payload', 'deadline', 'publishedAt', 'headers', 'idempotencyKey'), fc.option(fc.jsonValue({ maxDepth: 2 })))
  .map(([item, key, value]) => {
    const wire: Record<string, unknown> = JSON.parse(encodeItem(item).toString('utf8'));
    if (value === null) delete wire[key];
    else wire[key] = value;
    return Buffer.from(JSON.stringify(wire), 'utf8');
  });

/** A valid item's bytes with a few bytes overwritten or the tail cut off. */
export const damagedItemBytes: fc.Arbitrary<Buffer> = fc
  .tuple(validItem, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([item, edits, truncate]) => {
    const bytes = Buffer.from(encodeItem(item));
    for (const [at, value] of edits) bytes[at % bytes.length] = value;
    return truncate ? bytes.subarray(0, Math.floor(bytes.length / 2)) : bytes;
  });

function isMalformed(bytes: Uint8Array): boolean {
  try {
    decodeItem(bytes, 1);
    return false;
  } catch (error) {
    return error instanceof MalformedItemError;
  }
}

/**
 * What a foreign publisher might write on a kanban subject: random bytes, JSON that is no item,
 * damaged items. Only bytes the codec refuses are kept (the codec itself is property-tested in
 * decode-properties.spec.ts), so each of them must end as a `malformed` dead letter.
 */
export const malformedBytes: fc.Arbitrary<Buffer> = fc
  .oneof(
    fc.uint8Array({ maxLength: 256 }).map((bytes) => Buffer.from(bytes)),
    fc.jsonValue({ maxDepth: 3 }).map((value) => Buffer.from(JSON.stringify(value) ?? 'null', 'utf8')),
    nearItemBytes,
    damagedItemBytes,
  )
  .filter(isMalformed);
