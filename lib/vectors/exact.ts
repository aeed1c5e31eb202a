/** Exact cosine top-k over a raw matrix: the ground truth for recall measurements (bench, tests). */
import { MetricKind, exactSearch } from 'usearch';
import type { BatchMatches, Matches } from 'usearch';

/** For each query row, the row numbers of the k most cosine-similar dataset rows, best first. */
export function exactCosineTopK(dataset: Float32Array, queries: Float32Array, dimension: number, k: number): number[][] {
  const rows = queries.length / dimension;
  const result = exactSearch(dataset, queries, dimension, Math.min(k, dataset.length / dimension), MetricKind.Cos, 0);
  if (rows === 1) return [Array.from((result as Matches).keys, Number)];
  const batch = result as BatchMatches;
  return Array.from({ length: rows }, (_, i) => Array.from(batch.get(i).keys, Number));
}
