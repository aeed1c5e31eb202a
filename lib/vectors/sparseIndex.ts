/**
 * In-process inverted index for sparse (BM25-style) vectors, mirroring Qdrant's sparse vectors with
 * `modifier: idf`: documents carry tf-saturated weights, the query carries term weights, and the
 * index multiplies by idf(t) = ln(1 + (N − n(t) + 0.5) / (n(t) + 0.5)) at query time, so idf always
 * reflects the live collection (no reindex when the corpus grows).
 *
 * Hand-written because minisearch owns its own tokenisation and scoring; the seam must score the
 * vectors it is given, exactly as Qdrant does.
 */
import { IdMap } from './shardedSets.js';
import { TopK } from './topk.js';
import type { SparseVector } from './types.js';

export function bm25Idf(totalDocs: number, docFreq: number): number {
  return Math.log(1 + (totalDocs - docFreq + 0.5) / (docFreq + 0.5));
}

interface Postings {
  slots: Int32Array;
  values: Float32Array;
  length: number;
  /** Entries whose slot was removed; compacted when they reach half the list. */
  dead: number;
  /** Largest value ever added (an upper bound of any live value: bounds a term's contribution). */
  max: number;
}

interface StoredVector {
  readonly indices: Uint32Array;
  readonly values: Float32Array;
}

export class SparseIndex {
  // Sharded: a book brings tens of thousands of new terms, and one Map's rehash of them all stalled an upsert.
  private readonly postings = new IdMap<Postings, number>();
  private readonly vectors: Array<StoredVector | undefined> = [];
  private liveDocs = 0;
  private readonly scorer = new Scorer();

  /** Number of live documents with a non-empty vector (N of the idf). */
  get documents(): number {
    return this.liveDocs;
  }

  has(slot: number): boolean {
    return this.vectors[slot] !== undefined;
  }

  vector(slot: number): SparseVector | undefined {
    const stored = this.vectors[slot];
    return stored && { indices: Array.from(stored.indices), values: Array.from(stored.values) };
  }

  /**
   * Adds a document. Callers never reuse a slot once removed (they allocate slots monotonically),
   * which lets removal leave stale postings behind and compact them lazily.
   * Empty vectors are remembered but not counted in N.
   */
  add(slot: number, vector: SparseVector): void {
    if (this.vectors[slot] !== undefined) this.remove(slot);
    const stored = { indices: Uint32Array.from(vector.indices), values: Float32Array.from(vector.values) };
    this.vectors[slot] = stored;
    if (stored.indices.length === 0) return;
    this.liveDocs++;
    for (let i = 0; i < stored.indices.length; i++) {
      const term = stored.indices[i]!;
      let list = this.postings.get(term);
      if (!list) {
        list = { slots: new Int32Array(4), values: new Float32Array(4), length: 0, dead: 0, max: 0 };
        this.postings.set(term, list);
      }
      if (list.length === list.slots.length) {
        const slots = new Int32Array(list.length * 2);
        slots.set(list.slots);
        const values = new Float32Array(list.length * 2);
        values.set(list.values);
        list.slots = slots;
        list.values = values;
      }
      list.slots[list.length] = slot;
      list.values[list.length] = stored.values[i]!;
      list.max = Math.max(list.max, stored.values[i]!);
      list.length++;
    }
  }

  remove(slot: number): void {
    const stored = this.vectors[slot];
    if (!stored) return;
    this.vectors[slot] = undefined;
    if (stored.indices.length === 0) return;
    this.liveDocs--;
    for (const term of stored.indices) {
      const list = this.postings.get(term);
      if (!list) continue;
      list.dead++;
      if (list.dead * 2 >= list.length) this.compact(term, list);
    }
  }

  /** d(t) of a live document (0 when it lacks the term). */
  private termValue(slot: number, term: number): number {
    const stored = this.vectors[slot]!;
    for (let i = 0; i < stored.indices.length; i++) if (stored.indices[i] === term) return stored.values[i]!;
    return 0;
  }

  /** Live document frequency of a term. */
  docFreq(term: number): number {
    const list = this.postings.get(term);
    return list ? list.length - list.dead : 0;
  }

  /**
   * Top `limit` slots by Σ q(t)·idf(t)·d(t). `accept` filters candidates before ranking (exact
   * filtering, not post-filtering). Documents sharing no term with the query are never returned.
   */
  search(query: SparseVector, limit: number, accept?: (slot: number) => boolean): Array<{ slot: number; score: number }> {
    const lists: ScoredList[] = [];
    for (let qi = 0; qi < query.indices.length; qi++) {
      const list = this.postings.get(query.indices[qi]!);
      if (!list) continue;
      const weight = query.values[qi]! * bm25Idf(this.liveDocs, list.length - list.dead);
      lists.push({ term: query.indices[qi]!, slots: list.slots, values: list.values, from: 0, to: list.length, weight, bound: weight * list.max, anyDead: list.dead > 0 });
    }
    const live = (slot: number): boolean => this.vectors[slot] !== undefined;
    return this.scorer.rank(lists, this.vectors.length, limit, live, accept, (slot, term) => this.termValue(slot, term));
  }

  /**
   * Top `limit` of the given slots only, scored from their stored vectors: for a small candidate
   * set (a selective filter) this beats walking posting lists that may cover most of the index.
   */
  scoreSlots(query: SparseVector, slots: readonly number[], limit: number): Array<{ slot: number; score: number }> {
    const weights = new Map<number, number>();
    for (let qi = 0; qi < query.indices.length; qi++) {
      const term = query.indices[qi]!;
      weights.set(term, query.values[qi]! * bm25Idf(this.liveDocs, this.docFreq(term)));
    }
    const top = new TopK(limit);
    for (const slot of slots) {
      const stored = this.vectors[slot];
      if (!stored) continue;
      let score = 0;
      let shared = false;
      for (let i = 0; i < stored.indices.length; i++) {
        const weight = weights.get(stored.indices[i]!);
        if (weight === undefined) continue;
        score += weight * stored.values[i]!;
        shared = true;
      }
      if (shared) top.push(slot, score);
    }
    return top.result();
  }

  private compact(term: number, list: Postings): void {
    let write = 0;
    for (let read = 0; read < list.length; read++) {
      const slot = list.slots[read]!;
      // A slot may have been re-added with other terms: keep it only if it still has this term.
      if (this.vectors[slot]?.indices.includes(term)) {
        list.slots[write] = slot;
        list.values[write] = list.values[read]!;
        write++;
      }
    }
    list.length = write;
    list.dead = 0;
    if (write === 0) this.postings.delete(term);
  }
}

interface ScoredList {
  readonly term: number;
  readonly slots: ArrayLike<number>;
  readonly values: ArrayLike<number>;
  readonly from: number;
  readonly to: number;
  /** q(t)·idf(t) */
  readonly weight: number;
  /** Most this term can add to one document's score (weight × largest value), if known. */
  readonly bound?: number;
  /** Some postings may be of removed documents (else `live` need not be asked: slots are never reused). */
  readonly anyDead?: boolean;
}

/** Accumulates Σ weight·d(t) over posting lists into reusable scratch arrays and picks the top k. */
class Scorer {
  private scores = new Float64Array(0);
  private seen = new Uint8Array(0);

  /**
   * Exact top-k by term-at-a-time accumulation. With `lookup` (a document's value for a term) and
   * list bounds, it prunes like MaxScore (Turtle & Flood 1995): lists go in order of falling bound;
   * before walking a long list, if the bounds of all lists left sum to less than the current k-th
   * score, no document not yet seen can reach the top k, so the rest is added to the documents
   * already seen by lookup instead of walking lists that can cover half the collection (a common
   * term, low idf). Scores are the same as without pruning.
   */
  rank(
    lists: readonly ScoredList[],
    slotCount: number,
    limit: number,
    live: ((slot: number) => boolean) | undefined,
    accept: ((slot: number) => boolean) | undefined,
    lookup?: (slot: number, term: number) => number,
  ): Array<{ slot: number; score: number }> {
    if (this.scores.length < slotCount) {
      const size = Math.max(slotCount, this.scores.length * 2);
      this.scores = new Float64Array(size);
      this.seen = new Uint8Array(size);
    }
    const { scores, seen } = this;
    const touched: number[] = [];
    // Pruning needs bounds, a lookup, and no filter (a filter may reject the documents seen first).
    const prune = lookup !== undefined && accept === undefined && lists.every((list) => list.bound !== undefined && list.weight >= 0);
    const ordered = prune ? [...lists].sort((a, b) => b.bound! - a.bound!) : lists;
    let remaining = prune ? ordered.reduce((sum, list) => sum + list.bound!, 0) : Infinity;
    let walked = 0;
    for (; walked < ordered.length; walked++) {
      const list = ordered[walked]!;
      if (prune && touched.length >= limit && list.to - list.from > 2 * touched.length && remaining < this.kthScore(touched, limit)) break;
      // Most lists hold no removed documents: their postings need no liveness check (the hot loop
      // of a common term walks hundreds of thousands of them).
      const check = live !== undefined && list.anyDead !== false ? live : undefined;
      const { slots, values, weight } = list;
      for (let i = list.from; i < list.to; i++) {
        const slot = slots[i]!;
        if (check && !check(slot)) continue;
        if (seen[slot] === 0) {
          seen[slot] = 1;
          touched.push(slot);
        }
        scores[slot] += weight * values[i]!;
      }
      remaining -= list.bound ?? 0;
    }
    for (const list of ordered.slice(walked)) {
      for (const slot of touched) scores[slot] += list.weight * lookup!(slot, list.term);
    }
    const top = new TopK(limit);
    for (const slot of touched) if (!accept || accept(slot)) top.push(slot, scores[slot]!);
    for (const slot of touched) {
      scores[slot] = 0;
      seen[slot] = 0;
    }
    return top.result();
  }

  private kthScore(touched: readonly number[], k: number): number {
    const top = new TopK(k);
    for (const slot of touched) top.push(slot, this.scores[slot]!);
    return top.threshold;
  }
}

/**
 * Posting lists frozen in typed arrays, CSR style: ascending term ids, `starts[t]..starts[t+1]`
 * the postings of term t. What a serialised FlatIndex stores, so loading it builds nothing. Read
 * only (no deletions): N of the idf is the number of documents with at least one term.
 */
export class FrozenPostings {
  private readonly scorer = new Scorer();
  readonly documents: number;

  constructor(
    readonly terms: Uint32Array,
    readonly starts: Uint32Array,
    readonly slots: Uint32Array,
    readonly values: Float32Array,
    private readonly slotCount: number,
  ) {
    const has = new Uint8Array(slotCount);
    let documents = 0;
    for (let p = 0; p < slots.length; p++) {
      if (has[slots[p]!] === 0) {
        has[slots[p]!] = 1;
        documents++;
      }
    }
    this.documents = documents;
  }

  /** Freezes slots 0..slotCount-1 of a SparseIndex (removed slots contribute nothing). */
  static fromSparse(index: SparseIndex, slotCount: number): FrozenPostings {
    const counts = new Map<number, number>();
    const vectors: Array<SparseVector | undefined> = [];
    for (let slot = 0; slot < slotCount; slot++) {
      const vector = index.vector(slot);
      vectors.push(vector);
      for (const term of vector?.indices ?? []) counts.set(term, (counts.get(term) ?? 0) + 1);
    }
    const terms = Uint32Array.from(counts.keys()).sort();
    const starts = new Uint32Array(terms.length + 1);
    const position = new Map<number, number>();
    terms.forEach((term, t) => {
      starts[t + 1] = starts[t]! + counts.get(term)!;
      position.set(term, starts[t]!);
    });
    const slots = new Uint32Array(starts[terms.length]!);
    const values = new Float32Array(slots.length);
    vectors.forEach((vector, slot) => {
      vector?.indices.forEach((term, i) => {
        const at = position.get(term)!;
        slots[at] = slot;
        values[at] = vector.values[i]!;
        position.set(term, at + 1);
      });
    });
    return new FrozenPostings(terms, starts, slots, values, slotCount);
  }

  /** The sparse vector of every slot (terms ascending): the input of a mutable rebuild. */
  perSlot(slotCount: number): SparseVector[] {
    const indices: number[][] = Array.from({ length: slotCount }, () => []);
    const values: number[][] = Array.from({ length: slotCount }, () => []);
    for (let t = 0; t < this.terms.length; t++) {
      for (let p = this.starts[t]!; p < this.starts[t + 1]!; p++) {
        indices[this.slots[p]!]!.push(this.terms[t]!);
        values[this.slots[p]!]!.push(this.values[p]!);
      }
    }
    return indices.map((list, slot) => ({ indices: list, values: values[slot]! }));
  }

  search(query: SparseVector, limit: number, accept?: (slot: number) => boolean): Array<{ slot: number; score: number }> {
    const lists: ScoredList[] = [];
    for (let qi = 0; qi < query.indices.length; qi++) {
      const t = this.find(query.indices[qi]!);
      if (t < 0) continue;
      const from = this.starts[t]!;
      const to = this.starts[t + 1]!;
      lists.push({ term: query.indices[qi]!, slots: this.slots, values: this.values, from, to, weight: query.values[qi]! * bm25Idf(this.documents, to - from) });
    }
    return this.scorer.rank(lists, this.slotCount, limit, undefined, accept);
  }

  private find(term: number): number {
    let lo = 0;
    let hi = this.terms.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const value = this.terms[mid]!;
      if (value === term) return mid;
      if (value < term) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}
