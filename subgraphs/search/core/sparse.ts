/**
 * BM25-style sparse vectors from tokens. Documents carry the BM25 term-frequency part,
 * tf·(k1+1) / (tf + k1·(1 − b + b·len/avgLen)); the idf part is applied by the vector store at
 * query time (Qdrant `modifier: idf`, mirrored by the embedded index), so it always reflects the
 * live corpus. Queries carry one weight per distinct term.
 *
 * avgLen is a constant rather than a corpus statistic: a corpus-wide average would change every
 * stored vector whenever it moved (fastembed's BM25 makes the same choice).
 */
import type { SparseVector } from '../../../lib/vectors/index.js';
import { hash32 } from './hash.js';

export interface Bm25Options {
  /** @default 1.2 */
  readonly k1?: number;
  /** @default 0.75 */
  readonly b?: number;
  /** Typical chunk length in tokens. @default 256 */
  readonly avgLength?: number;
}

/** Term id of a token: a 32-bit hash (collisions merge two rare terms; harmless at this width). */
export function termId(token: string): number {
  return hash32(token, 0x9747b28c);
}

function countTerms(tokens: readonly string[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const token of tokens) {
    const id = termId(token);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

function fromMap(map: Map<number, number>): SparseVector {
  const entries = [...map].sort((a, b) => a[0] - b[0]);
  return { indices: entries.map((e) => e[0]), values: entries.map((e) => e[1]) };
}

/** A document's sparse vector. */
export function toSparse(tokens: readonly string[], options: Bm25Options = {}): SparseVector {
  const k1 = options.k1 ?? 1.2;
  const b = options.b ?? 0.75;
  const avgLength = options.avgLength ?? 256;
  const lengthNorm = 1 - b + (b * tokens.length) / avgLength;
  const counts = countTerms(tokens);
  for (const [id, tf] of counts) counts.set(id, (tf * (k1 + 1)) / (tf + k1 * lengthNorm));
  return fromMap(counts);
}

/** A query's sparse vector: weight 1 per distinct term (idf is the store's job). */
export function queryToSparse(tokens: readonly string[]): SparseVector {
  const counts = countTerms(tokens);
  for (const id of counts.keys()) counts.set(id, 1);
  return fromMap(counts);
}
