import { monotonicFactory, ulid as makeUlid } from "ulid";

// ulid's default PRNG asks the kernel for one byte per character (65 µs per id here); a
// pool of random bytes refilled 4 KiB at a time gives the same randomness for ~1 µs. Web
// Crypto (a global in every runtime) keeps this file, which the engine uses, free of node:*.
const pool = new Uint8Array(4096);
let next = pool.length;
function prng(): number {
  if (next >= pool.length) {
    globalThis.crypto.getRandomValues(pool);
    next = 0;
  }
  return pool[next++]! / 256;
}

/** A new ULID: sortable by creation time, 80 random bits. */
export function newId(): string {
  return makeUlid(undefined, prng);
}

/** A factory of ULIDs that stay sortable within one millisecond (for `ctx.ulid()`). */
export function monotonicIds(): (seedTime?: number) => string {
  return monotonicFactory(prng);
}
