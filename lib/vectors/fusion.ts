/** Reciprocal rank fusion, the hybrid rule both backends share. */

/** k of RRF (Cormack et al. 2009); Qdrant is asked for the same k explicitly. */
export const RRF_K = 60;

/**
 * How many candidates each branch of a hybrid query contributes before fusion. Both backends use
 * this number (Qdrant as the prefetch limit), so their fused lists agree.
 */
export function prefetchLimit(limit: number, offset: number): number {
  return Math.min(1000, Math.max(50, (limit + offset) * 4));
}

/** Fuses ranked id lists: score = Σ 1 / (k + rank), rank counted from 1. Ties keep first-seen order. */
export function reciprocalRankFusion(lists: ReadonlyArray<readonly string[]>, k = RRF_K): Array<{ id: string; score: number }> {
  const scores = new Map<string, number>();
  for (const list of lists) {
    list.forEach((id, index) => scores.set(id, (scores.get(id) ?? 0) + 1 / (k + index + 1)));
  }
  return [...scores].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score);
}
