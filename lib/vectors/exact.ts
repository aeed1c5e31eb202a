/** Exact cosine helpers: int8 quantisation for the exact scans, and ground truth for recall measurements. */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
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

/** Scales a vector into int8 (largest component → ±127); cosine is scale-invariant. */
export function quantizeI8(vector: Float32Array, out: Int8Array = new Int8Array(vector.length)): Int8Array {
  let max = 0;
  for (let d = 0; d < vector.length; d++) max = Math.max(max, Math.abs(vector[d]!));
  const scale = max > 0 ? 127 / max : 0;
  for (let d = 0; d < vector.length; d++) out[d] = Math.round(vector[d]! * scale);
  return out;
}

/** The installed USearch version, for benchmark reports (the package does not export its package.json). */
export function usearchVersion(): string {
  let dir = path.dirname(createRequire(import.meta.url).resolve('usearch'));
  for (let depth = 0; depth < 6; depth++, dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
    if (parsed.name === 'usearch') return parsed.version ?? 'unknown';
  }
  return 'unknown';
}
