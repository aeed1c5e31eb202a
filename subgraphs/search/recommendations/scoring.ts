/**
 * The scoring rules of recommendations, pure and free of storage, so they are unit-tested and the
 * offline evaluation (bench/recommend.bench.ts) runs exactly these.
 *
 * Co-reading (item-to-item co-occurrence, cosine over reader sets):
 *   co(a, b) = |R(a) ∩ R(b)| / sqrt(|R(a)| · |R(b)|)    when |R(a) ∩ R(b)| ≥ k, else 0
 * where R(x) is the set of readers with x on a non-secret shelf entry (finished or not) and k is
 * FOLIO_POPULAR_HIGHLIGHT_MIN_READERS (the same k as popular highlights): a pair seen by fewer
 * than k readers says nothing, so it cannot single anyone out.
 *
 * Content: cosine of book-level vectors (the mean of each book's passage embeddings).
 *
 * Blend: score = W_CONTENT · content' + W_CO_READING · co' + W_POPULARITY · log1p(readers), where
 * content' and co' are each signal scaled to 0..1 over the list's candidates (content min–max,
 * co-reading by its maximum): raw cosines of book vectors sit high and close together (books
 * share a language), so unscaled they would drown co-reading. The small popularity prior only
 * breaks ties. For a reader, content compares a candidate with the reader's profile vector (seed
 * vectors averaged by seed weight) and co-reading sums co(seed, candidate) · weight(seed) / Σ weight.
 * The weights were chosen on the offline evaluation (bench/recommend.bench.ts).
 */

export const W_CONTENT = 0.2;
export const W_CO_READING = 0.8;
export const W_POPULARITY = 0.002;
/** At most this many books by one author in one list ("not ten books by one author"). */
export const AUTHOR_CAP = 2;
/** A seed's weight halves every this many days since the reader last touched it. */
export const SEED_HALF_LIFE_DAYS = 180;

export function coReading(together: number, readersA: number, readersB: number, k: number): number {
  if (together < k || readersA <= 0 || readersB <= 0) return 0;
  return together / Math.sqrt(readersA * readersB);
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Dot product: the cosine of two unit vectors (book vectors are stored L2-normalised, and model.ts normalises on load). */
export function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** A unit-length copy (null for a zero vector). */
export function unit(values: ArrayLike<number>): Float32Array | null {
  const out = Float32Array.from(values);
  let norm = 0;
  for (let i = 0; i < out.length; i++) norm += out[i]! * out[i]!;
  if (norm === 0) return null;
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < out.length; i++) out[i]! *= scale;
  return out;
}

/** Weighted mean of vectors, L2-normalised; null when nothing has weight. */
export function weightedMean(vectors: ReadonlyArray<{ vector: Float32Array; weight: number }>, dimension: number): Float32Array | null {
  const out = new Float32Array(dimension);
  let total = 0;
  for (const { vector, weight } of vectors) {
    if (weight <= 0 || vector.length !== dimension) continue;
    total += weight;
    for (let i = 0; i < dimension; i++) out[i]! += vector[i]! * weight;
  }
  if (total === 0) return null;
  let norm = 0;
  for (let i = 0; i < dimension; i++) norm += out[i]! * out[i]!;
  if (norm === 0) return null;
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < dimension; i++) out[i]! *= scale;
  return out;
}

/** `content` and `co` already scaled to 0..1 (see scaleSignals). */
export function blend(content: number, co: number, readers: number): number {
  return W_CONTENT * Math.max(0, content) + W_CO_READING * co + W_POPULARITY * Math.log1p(readers);
}

/** Scales each candidate's raw content cosine (min–max) and co-reading (by the maximum) to 0..1 over one list. */
export function scaleSignals<T extends { content: number; co: number }>(candidates: readonly T[]): Array<T & { contentScaled: number; coScaled: number }> {
  let cMin = Infinity;
  let cMax = -Infinity;
  let coMax = 0;
  for (const c of candidates) {
    cMin = Math.min(cMin, c.content);
    cMax = Math.max(cMax, c.content);
    coMax = Math.max(coMax, c.co);
  }
  const span = cMax - cMin;
  return candidates.map((c) => ({ ...c, contentScaled: span > 0 ? (c.content - cMin) / span : c.content > 0 ? 1 : 0, coScaled: coMax > 0 ? c.co / coMax : 0 }));
}

/** What one reader did with one book: the signals a seed's weight comes from. */
export interface SeedSignals {
  readonly onShelf: boolean;
  readonly finished: boolean;
  readonly seconds: number;
  readonly highlights: number;
  /** The latest of added/finished/last read day, for recency. */
  readonly lastActivity: Date | null;
}

/**
 * How much a book the reader has says about what they want next: being on the shelf counts 1,
 * finishing it 1 more, reading time and highlights add with diminishing returns (log), and the
 * whole decays with age (half-life SEED_HALF_LIFE_DAYS).
 */
export function seedWeight(s: SeedSignals, now: Date): number {
  const base = (s.onShelf ? 1 : 0) + (s.finished ? 1 : 0) + Math.log1p(Math.max(0, s.seconds) / 600) + 0.5 * Math.log1p(Math.max(0, s.highlights));
  if (base <= 0) return 0;
  const ageDays = s.lastActivity ? Math.max(0, (now.getTime() - s.lastActivity.getTime()) / 86_400_000) : 0;
  return base * Math.pow(0.5, ageDays / SEED_HALF_LIFE_DAYS);
}

/** Normalised author key: case and spacing never make two authors of one. */
export const authorKey = (authors: readonly string[]): string => (authors[0] ?? '').normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();

/**
 * Keeps the ranking's order but at most `cap` books per (first) author; books without an author
 * are not capped. Later books by a capped author are dropped, not postponed: a long list should
 * not end in a run of one author either.
 */
export function diversify<T>(ranked: readonly T[], authorsOf: (item: T) => readonly string[], cap = AUTHOR_CAP): T[] {
  const seen = new Map<string, number>();
  const out: T[] = [];
  for (const item of ranked) {
    const key = authorKey(authorsOf(item));
    if (key) {
      const n = seen.get(key) ?? 0;
      if (n >= cap) continue;
      seen.set(key, n + 1);
    }
    out.push(item);
  }
  return out;
}

/** BCP 47 primary subtag, lower case (`zh-CN` → `zh`). */
export const primarySubtag = (language: string): string => language.split('-')[0]!.toLowerCase();

/** The source a reason names: which signal contributed most. */
export type ReasonSource = 'CONTENT' | 'CO_READING' | 'POPULAR' | 'RECENT';

export function dominantSource(content: number, co: number): ReasonSource {
  return W_CO_READING * co >= W_CONTENT * Math.max(0, content) && co > 0 ? 'CO_READING' : 'CONTENT';
}
