/** A seeded random source for tests and benchmarks: Math.random cannot be seeded, and runs must repeat. */
import { seededRandom } from '../../subgraphs/catalog/demo/synthetic.js';

export { seededRandom };

/** The same source in [-1, 1) (random vectors and weights). */
export function signedRandom(seed: number): () => number {
  const random = seededRandom(seed);
  return () => random() * 2 - 1;
}
