import { createHash, timingSafeEqual } from 'node:crypto';

/** SHA-256 of a token: equal-length digests let `timingSafeEqual` compare tokens of any length. */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Compares in constant time, so response timing does not reveal how much of a guess was right. */
export function digestsMatch(expected: Buffer, presented: string): boolean {
  return timingSafeEqual(expected, tokenDigest(presented));
}
