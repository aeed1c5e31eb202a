/**
 * Similarity of short strings (the context around a quote), from their edit distance.
 *
 * Written here rather than taken from approx-string-match because that library is built for
 * finding a pattern in a long text: it re-runs a reverse search for every equally good match
 * end, and two dissimilar 32-character strings have dozens of those (measured 40–280 µs per
 * comparison, the Chinese case worst). A plain dynamic programme over at most 64×64 cells
 * costs about a microsecond, and context scoring runs for every candidate of every highlight.
 */

/** Longest string compared; callers slice context to the code units nearest the quote. */
export const MAX_SIMILARITY_LENGTH = 64;

let row = new Uint16Array(MAX_SIMILARITY_LENGTH + 1);

/** Levenshtein distance (insertions, deletions, substitutions of UTF-16 code units). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  if (row.length < b.length + 1) row = new Uint16Array(b.length + 1);
  for (let j = 0; j <= b.length; j += 1) row[j] = j;
  for (let i = 1; i <= a.length; i += 1) {
    const ca = a.charCodeAt(i - 1);
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = row[j]!;
      const cost = ca === b.charCodeAt(j - 1) ? 0 : 1;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** How well `actual` (text found next to a candidate) matches `expected`, 0..1. */
export function contextSimilarity(actual: string, expected: string): number {
  if (expected.length === 0) return actual.length === 0 ? 1 : 0;
  if (actual === expected) return 1;
  return Math.max(0, 1 - editDistance(actual, expected) / expected.length);
}
