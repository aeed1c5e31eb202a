/**
 * A q-gram index over one revision's text: for every position, the hash bucket of the
 * GRAM_LENGTH code units starting there, stored as one CSR array (bucket → ascending positions).
 *
 * Why: re-anchoring asks "where does this string occur?" many times per highlight (the quote,
 * pieces of it, pieces of its context), often across the whole book. `String#indexOf` over a
 * 1.5 M-character book costs 0.5–1 ms per probe (measured on the target machine), which would
 * make orphaned highlights alone blow the time budget. With this index a probe costs the
 * pattern's length plus the occurrences of its rarest gram. No installed library offers
 * substring positions (minisearch indexes words, not offsets), so it is written here; it is
 * two typed arrays and a rolling hash, built once per revision in tens of milliseconds.
 */

/** Code units per gram: long enough that a gram of prose is usually rare, short enough that
 * an edit every few words still leaves intact grams in a quote. */
export const GRAM_LENGTH = 12;
/** Beyond this many entries in a pattern's rarest bucket, a scan is no cheaper than indexOf. */
const MAX_BUCKET_SCAN = 4096;
/** Gram offsets of a long pattern considered when looking for its rarest gram. */
const MAX_PROBED_GRAMS = 128;
const BASE = 0x01000193;
const MIX = 0x9e3779b1;

/** BASE^(GRAM_LENGTH-1) mod 2^32, to drop the outgoing code unit when rolling. */
const BASE_POW = (() => {
  let p = 1;
  for (let i = 1; i < GRAM_LENGTH; i += 1) p = Math.imul(p, BASE);
  return p;
})();

function hashGram(s: string, offset: number): number {
  let h = 0;
  for (let k = 0; k < GRAM_LENGTH; k += 1) h = (Math.imul(h, BASE) + s.charCodeAt(offset + k)) | 0;
  return h;
}

const roll = (h: number, out: number, inc: number): number =>
  (Math.imul((h - Math.imul(out, BASE_POW)) | 0, BASE) + inc) | 0;

export class GramIndex {
  readonly text: string;
  private readonly shift: number;
  /** bucketStarts[b]..bucketStarts[b+1] indexes `positions` for bucket b. */
  private readonly bucketStarts: Int32Array;
  private readonly positions: Int32Array;

  constructor(text: string) {
    this.text = text;
    const grams = Math.max(0, text.length - GRAM_LENGTH + 1);
    // About one bucket per gram keeps collisions rare; 2^24 buckets (64 MB) is the ceiling.
    const bits = Math.min(24, Math.max(8, Math.ceil(Math.log2(grams + 1))));
    const buckets = 2 ** bits;
    this.shift = 32 - bits;
    const bucketOf = new Uint32Array(grams);
    const starts = new Int32Array(buckets + 1);
    let h = grams > 0 ? hashGram(text, 0) : 0;
    for (let i = 0; i < grams; i += 1) {
      if (i > 0) h = roll(h, text.charCodeAt(i - 1), text.charCodeAt(i + GRAM_LENGTH - 1));
      const b = Math.imul(h, MIX) >>> this.shift;
      bucketOf[i] = b;
      starts[b + 1]! += 1;
    }
    for (let b = 0; b < buckets; b += 1) starts[b + 1]! += starts[b]!;
    const cursor = starts.slice(0, buckets);
    const positions = new Int32Array(grams);
    for (let i = 0; i < grams; i += 1) positions[cursor[bucketOf[i]!]!++] = i;
    this.bucketStarts = starts;
    this.positions = positions;
  }

  private bucket(hash: number): number {
    return Math.imul(hash, MIX) >>> this.shift;
  }

  private bucketSize(b: number): number {
    return this.bucketStarts[b + 1]! - this.bucketStarts[b]!;
  }

  /**
   * Start offsets `s` (ascending) where `pattern` occurs with `from <= s` and
   * `s + pattern.length <= to`, at most `limit` of them. Returns null when the index cannot
   * answer cheaply: the pattern is shorter than a gram, or even its rarest gram is so common
   * that a plain scan is as good; the caller then scans (bounded) itself.
   */
  occurrences(pattern: string, from: number, to: number, limit: number): number[] | null {
    const len = pattern.length;
    if (len < GRAM_LENGTH) return null;
    // Pick the gram of the pattern with the smallest bucket: fewest candidates to verify.
    const probes = Math.min(len - GRAM_LENGTH + 1, MAX_PROBED_GRAMS);
    let h = hashGram(pattern, 0);
    let bestOffset = 0;
    let bestBucket = this.bucket(h);
    let bestSize = this.bucketSize(bestBucket);
    for (let off = 1; off < probes && bestSize > 1; off += 1) {
      h = roll(h, pattern.charCodeAt(off - 1), pattern.charCodeAt(off + GRAM_LENGTH - 1));
      const b = this.bucket(h);
      const size = this.bucketSize(b);
      if (size < bestSize) {
        bestSize = size;
        bestBucket = b;
        bestOffset = off;
      }
    }
    if (bestSize > MAX_BUCKET_SCAN) return null;
    const found: number[] = [];
    const end = this.bucketStarts[bestBucket + 1]!;
    for (let k = this.bucketStarts[bestBucket]!; k < end && found.length < limit; k += 1) {
      const s = this.positions[k]! - bestOffset;
      if (s < from || s + len > to) continue;
      if (this.text.startsWith(pattern, s)) found.push(s);
    }
    return found;
  }

  /**
   * Occurrences of a pattern of exactly GRAM_LENGTH or more code units, or [] when it is
   * shorter or too common to be informative (more than `limit` occurrences in range).
   * Used for seeds: an uninformative seed is skipped, not scanned for.
   */
  seedOccurrences(seed: string, from: number, to: number, limit: number): number[] {
    const found = this.occurrences(seed, from, to, limit + 1);
    return found === null || found.length > limit ? [] : found;
  }
}
