/**
 * In-process inverted index for sparse (BM25-style) vectors, mirroring Qdrant's sparse vectors with
 * `modifier: idf`: documents carry tf-saturated weights, the query carries term weights, and the
 * index multiplies by idf(t) = ln(1 + (N − n(t) + 0.5) / (n(t) + 0.5)) at query time, so idf always
 * reflects the live collection (no reindex when the corpus grows).
 *
 * Hand-written because minisearch owns its own tokenisation and scoring; the seam must score the
 * vectors it is given, exactly as Qdrant does.
 */
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
}

interface StoredVector {
  readonly indices: Uint32Array;
  readonly values: Float32Array;
}

export class SparseIndex {
  private readonly postings = new Map<number, Postings>();
  private readonly vectors: Array<StoredVector | undefined> = [];
  private liveDocs = 0;
  private scratch = new Float64Array(0);
  private seen = new Uint8Array(0);

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
        list = { slots: new Int32Array(4), values: new Float32Array(4), length: 0, dead: 0 };
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
    if (this.scratch.length < this.vectors.length) {
      const size = Math.max(this.vectors.length, this.scratch.length * 2);
      this.scratch = new Float64Array(size);
      this.seen = new Uint8Array(size);
    }
    const scores = this.scratch;
    const seen = this.seen;
    const touched: number[] = [];
    const n = this.liveDocs;
    for (let qi = 0; qi < query.indices.length; qi++) {
      const list = this.postings.get(query.indices[qi]!);
      if (!list) continue;
      const weight = query.values[qi]! * bm25Idf(n, list.length - list.dead);
      for (let i = 0; i < list.length; i++) {
        const slot = list.slots[i]!;
        if (this.vectors[slot] === undefined) continue;
        if (seen[slot] === 0) {
          seen[slot] = 1;
          touched.push(slot);
        }
        scores[slot] += weight * list.values[i]!;
      }
    }
    const top = new TopK(limit);
    for (const slot of touched) {
      const score = scores[slot]!;
      scores[slot] = 0;
      seen[slot] = 0;
      if (!accept || accept(slot)) top.push(slot, score);
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
