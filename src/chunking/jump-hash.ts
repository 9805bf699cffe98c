// Bin choice by jump consistent hashing (Lamping & Veach, 2014): a key's bin depends only on the key
// and the bin count, and growing the count from n to n+1 moves only ~1/(n+1) of the keys, so a
// changed layer budget reshuffles little.
import { createHash } from 'node:crypto';

const MASK64 = (1n << 64n) - 1n;
const MULT = 2862933555777941757n;

/** 64-bit key of a string: the first 8 bytes of its SHA-256. */
export function keyOf(s: string): bigint {
  return createHash('sha256').update(s).digest().readBigUInt64BE(0);
}

/** Bin in [0, bins) for `key`. */
export function jumpHash(key: bigint, bins: number): number {
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`jumpHash: bin count must be a positive integer, got ${bins}`);
  let k = key & MASK64;
  let b = -1;
  let j = 0;
  while (j < bins) {
    b = j;
    k = (k * MULT + 1n) & MASK64;
    j = Math.floor((b + 1) * (2 ** 31 / (Number(k >> 33n) + 1)));
  }
  return b;
}
