/** A seeded random source for tests and benchmarks: Math.random cannot be seeded, and runs must repeat. */

/** Deterministic PRNG (mulberry32) in [0, 1), so generated data and failures reproduce. */
export function seededRandom(seed: number): () => number {
  seed >>>= 0;
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
