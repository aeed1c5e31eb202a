/**
 * One embedded collection in memory (private to lib/vectors): a USearch HNSW graph for dense
 * vectors, an int8 copy of the vectors for filtered exact search (USearch's JS API can neither
 * read vectors back nor take a filter callback; int8 because USearch's exact int8 cosine scan is
 * ~20× faster than its f32 one here and a quarter of the memory), an inverted index for sparse
 * vectors, and keyword indexes on the payload keys that filters use.
 *
 * Slots are allocated monotonically and never reused: an upsert of an existing id removes the old
 * slot and takes a new one, which keeps the HNSW graph and the postings free of stale aliases.
 *
 * The int8 vectors live in fixed pages of VECTOR_PAGE_SLOTS slots, so the store grows by a page.
 * One array grown by doubling copied the whole store on the event loop: 216 ms at 73,000 chunks of
 * 384 dims while a 100,000-paragraph book was indexed (bench:isolation), and its 56 MB allocations
 * brought major GCs into the upserts around it.
 */
import { MetricKind, exactSearch } from 'usearch';
import type { Matches } from 'usearch';
import { conditionValues, isEmptyFilter, matchesFilter } from './filter.js';
import { quantizeI8 } from './exact.js';
import { prefetchLimit, reciprocalRankFusion } from './fusion.js';
import type { HnswGraph } from './hnswGraph.js';
import { IdMap, SlotSet } from './shardedSets.js';
import { SparseIndex } from './sparseIndex.js';
import type { PayloadFilter, PayloadScalar, SearchHit, SearchRequest, SparseVector, VectorPoint } from './types.js';
import { VectorStoreError } from './types.js';

export interface HnswTuning {
  /** Stored scalar type in the graph. f16 halves memory; the bench measured recall and latency of both. */
  readonly quantization: 'f16' | 'f32';
  /** HNSW M. */
  readonly connectivity: number;
  readonly expansionAdd: number;
  /**
   * ef at query time. USearch 2.25's JS binding has no change_expansion_search: the value given to
   * the constructor is kept across load()/view() (only `multi` is read from the file), and a
   * search for k results walks with ef = max(expansion_search, k).
   */
  readonly expansionSearch: number;
  /** Filtered candidate sets up to this size are scanned exactly instead of walking the graph. */
  readonly exactSearchThreshold: number;
  /** Threads for batch inserts (USearch adds in parallel). */
  readonly threads: number;
}

export interface CollectionMeta {
  readonly embedderId: string;
  readonly dimension: number;
  readonly payloadIndexes: readonly string[];
}

/** Most payload bytes a point may carry (JSON). */
const MAX_PAYLOAD_BYTES = 64 * 1024;
/** Changes kept for the log between flushes; past it the next flush saves in full instead. */
const MAX_UNLOGGED = 200_000;
/** Beyond this over-fetch the planner gives up on the graph and scans the filtered set exactly. */
const MAX_OVERFETCH = 100_000;

type Scored = { slot: number; score: number };

/**
 * One change as the collection's log keeps it (embeddedFiles.ts appends these between full saves):
 * a point placed in a slot (its int8 vector base64), or slots removed. Replayed in order on load.
 */
export type LogRecord =
  | { readonly u: number; readonly id: string; readonly p: Record<string, unknown>; readonly i: readonly number[]; readonly v: readonly number[]; readonly q: string }
  | { readonly r: readonly number[] };

const valueKey = (value: unknown): string => `${typeof value}:${String(value)}`;

/** Slots per page of int8 vectors: 1.5 MiB at 384 dims, so adding one costs well under a millisecond. */
export const VECTOR_PAGE_SLOTS = 4096;

export class EmbeddedCollection {
  /** int8 vectors by slot, VECTOR_PAGE_SLOTS slots a page (dead slots are zeros). */
  private readonly pages: Int8Array[] = [];
  private readonly ids: Array<string | undefined> = [];
  private readonly payloads: Array<Record<string, unknown> | undefined> = [];
  private readonly idToSlot = new IdMap<number>();
  private readonly keyword = new Map<string, Map<string, SlotSet>>();
  readonly sparse = new SparseIndex();
  private nextSlot = 0;
  /** Changed since the last save or log append. */
  dirty = false;
  /** The changes since then, in order, as log records (cleared by the persistence layer). */
  readonly unlogged: LogRecord[] = [];
  /** More changes than a log is worth were made without a flush: the next one saves in full. */
  unloggedOverflow = false;

  constructor(
    readonly meta: CollectionMeta,
    readonly hnsw: HnswGraph,
    private readonly tuning: HnswTuning,
  ) {
    for (const key of meta.payloadIndexes) this.keyword.set(key, new Map());
  }

  get size(): number {
    return this.idToSlot.size;
  }

  get slotCount(): number {
    return this.nextSlot;
  }

  get tuningQuantization(): 'f16' | 'f32' {
    return this.tuning.quantization;
  }

  /** After a load: slots up to `count` were allocated (some died) and are never handed out again. */
  ensureSlotCount(count: number): void {
    this.nextSlot = Math.max(this.nextSlot, count);
    this.reserve(this.nextSlot);
  }

  /**
   * int8 vectors of every slot ever allocated (dead slots are zeros), slot after slot, as views of
   * the pages in order: what the persistence layer saves (restoreVectors reads it back).
   */
  *vectorChunks(): Generator<Int8Array> {
    const dim = this.meta.dimension;
    for (let page = 0; page * VECTOR_PAGE_SLOTS < this.nextSlot; page++) {
      yield this.pages[page]!.subarray(0, Math.min(VECTOR_PAGE_SLOTS, this.nextSlot - page * VECTOR_PAGE_SLOTS) * dim);
    }
  }

  /** Load: the int8 vectors of slots 0, 1, … back to back, as vectorChunks gave them. */
  restoreVectors(data: Int8Array): void {
    const dim = this.meta.dimension;
    const slots = Math.floor(data.length / dim);
    this.reserve(slots);
    for (let page = 0; page * VECTOR_PAGE_SLOTS < slots; page++) {
      this.pages[page]!.set(data.subarray(page * VECTOR_PAGE_SLOTS * dim, Math.min(slots, (page + 1) * VECTOR_PAGE_SLOTS) * dim));
    }
    this.nextSlot = Math.max(this.nextSlot, slots);
  }

  *livePoints(): Generator<{ slot: number; id: string; payload: Record<string, unknown>; sparse: SparseVector }> {
    for (const [id, slot] of this.idToSlot) {
      yield { slot, id, payload: this.payloads[slot]!, sparse: this.sparse.vector(slot) ?? { indices: [], values: [] } };
    }
  }

  /** Restores a saved point without touching the graph (it was loaded with it). */
  restore(slot: number, id: string, payload: Record<string, unknown>, sparse: SparseVector): void {
    this.nextSlot = Math.max(this.nextSlot, slot + 1);
    this.reserve(this.nextSlot);
    this.place(slot, id, payload, sparse);
  }

  /**
   * Load: re-applies logged changes over the saved base, in order. The graph gets the logged
   * int8 vectors (cosine is scale-free, so they stand in for the float vectors within
   * quantisation error), all added in one batch at the end.
   */
  async replay(records: readonly LogRecord[]): Promise<void> {
    const dim = this.meta.dimension;
    const added = new Map<number, Int8Array>();
    for (const record of records) {
      if ('r' in record) {
        const live = record.r.filter((slot) => this.ids[slot] !== undefined);
        for (const slot of live) added.delete(slot);
        await this.removeSlots(live).done;
        continue;
      }
      const vector = Buffer.from(record.q, 'base64');
      if (vector.byteLength !== dim || !Number.isInteger(record.u) || record.u < 0) throw new VectorStoreError('INVALID_ARGUMENT', `log record for ${record.id} does not fit the collection`);
      this.nextSlot = Math.max(this.nextSlot, record.u + 1);
      this.reserve(this.nextSlot);
      this.vectorOf(record.u).set(new Int8Array(vector.buffer, vector.byteOffset, dim));
      this.place(record.u, record.id, record.p, { indices: record.i, values: record.v });
      added.set(record.u, this.vectorOf(record.u));
    }
    this.unlogged.length = 0;
    this.unloggedOverflow = false;
    if (added.size === 0) return;
    const keys = BigUint64Array.from(added.keys(), (slot) => BigInt(slot));
    const batch = new Float32Array(added.size * dim);
    let row = 0;
    for (const vector of added.values()) batch.set(vector, row++ * dim);
    await this.hnsw.add(keys, batch, this.tuning.threads);
  }

  addPayloadIndex(key: string): void {
    if (this.keyword.has(key)) return;
    const index = new Map<string, SlotSet>();
    this.keyword.set(key, index);
    for (const slot of this.idToSlot.values()) this.indexValue(index, slot, this.payloads[slot]![key]);
  }

  /**
   * Places the points in memory at once (sparse, payloads, exact vectors) and hands them to the
   * graph; resolves when the graph has them too. A search meanwhile finds them by sparse and
   * exact scoring but maybe not yet by the graph (the upsert has not returned yet).
   */
  upsert(points: readonly VectorPoint[]): Promise<void> {
    if (points.length === 0) return Promise.resolve();
    const payloads = points.map((point) => {
      const json = JSON.stringify(point.payload);
      if (json.length > MAX_PAYLOAD_BYTES) throw new VectorStoreError('INVALID_ARGUMENT', `payload of ${point.id} exceeds ${MAX_PAYLOAD_BYTES} bytes`);
      // A JSON round trip gives the payload exactly the shape Qdrant would store and return.
      return JSON.parse(json) as Record<string, unknown>;
    });
    const removed = this.removeSlots(points.flatMap((point) => this.idToSlot.get(point.id) ?? []));
    const dim = this.meta.dimension;
    const first = this.nextSlot;
    this.reserve(first + points.length);
    const keys = new BigUint64Array(points.length);
    const batch = new Float32Array(points.length * dim);
    points.forEach((point, i) => {
      const slot = first + i;
      keys[i] = BigInt(slot);
      batch.set(point.dense, i * dim);
      const vector = this.vectorOf(slot);
      quantizeI8(point.dense, vector);
      this.place(slot, point.id, payloads[i]!, point.sparse);
      const q = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
      this.log({ u: slot, id: point.id, p: payloads[i]!, i: [...point.sparse.indices], v: [...point.sparse.values], q });
    });
    this.nextSlot = first + points.length;
    this.dirty = true;
    // One batch call: USearch inserts it on `threads` threads.
    const added = this.hnsw.add(keys, batch, points.length > 64 ? this.tuning.threads : 1);
    return Promise.all([removed.done, added]).then(() => undefined);
  }

  async deleteIds(ids: readonly string[]): Promise<number> {
    const { count, done } = this.removeSlots(ids.flatMap((id) => this.idToSlot.get(id) ?? []));
    await done;
    return count;
  }

  async deleteByFilter(filter: PayloadFilter): Promise<number> {
    const { count, done } = this.removeSlots(this.matchingSlots(filter));
    await done;
    return count;
  }

  count(filter?: PayloadFilter): number {
    return isEmptyFilter(filter) ? this.size : this.matchingSlots(filter!).length;
  }

  async search(request: SearchRequest, offset: number): Promise<SearchHit[]> {
    const want = offset + request.limit;
    const filter = isEmptyFilter(request.filter) ? undefined : request.filter;
    let ranked: Scored[];
    switch (request.mode) {
      case 'dense':
        ranked = await this.denseSearch(request.dense!, want, filter, request.ef);
        break;
      case 'sparse':
        ranked = this.sparseSearch(request.sparse!, want, filter);
        break;
      case 'hybrid': {
        const candidates = prefetchLimit(request.limit, offset);
        // Dense first: everything after its await is synchronous, so no write interleaves below.
        const dense = (await this.denseSearch(request.dense!, candidates, filter, request.ef)).map((hit) => this.ids[hit.slot]!);
        const sparse = this.sparseSearch(request.sparse!, candidates, filter).map((hit) => this.ids[hit.slot]!);
        ranked = reciprocalRankFusion([dense, sparse]).map((hit) => ({ slot: this.idToSlot.get(hit.id)!, score: hit.score }));
        break;
      }
      default:
        throw new VectorStoreError('INVALID_ARGUMENT', `unknown search mode ${JSON.stringify(request.mode)}`);
    }
    return ranked.slice(offset, want).map(({ slot, score }) => ({ id: this.ids[slot]!, score, payload: structuredClone(this.payloads[slot]!) }));
  }

  // ---------------------------------------------------------------------------------------------

  private sparseSearch(query: SparseVector, want: number, filter: PayloadFilter | undefined): Scored[] {
    if (!filter) return this.sparse.search(query, want);
    const accept = (slot: number): boolean => matchesFilter(this.payloads[slot]!, filter);
    // A selective indexed filter: score just its candidates from their stored vectors instead of
    // walking whole posting lists (a common term's list can hold half the collection).
    const candidates = this.indexedCandidates(filter);
    if (candidates && candidates.length <= this.tuning.exactSearchThreshold) return this.sparse.scoreSlots(query, candidates.filter(accept), want);
    return this.sparse.search(query, want, accept);
  }

  /**
   * The filter planner. Indexed equality conditions give a candidate set; a small set is scanned
   * exactly (cheap, and exact), a large one walks the graph with enough over-fetch for the
   * measured selectivity, widening until enough hits pass; if even that fails (the filter is far
   * more selective than estimated) it scans the filtered set exactly.
   */
  private async denseSearch(query: Float32Array, want: number, filter: PayloadFilter | undefined, ef: number | undefined): Promise<Scored[]> {
    const live = this.size;
    if (live === 0) return [];
    if (!filter) return this.graphSearch(query, Math.min(want, live), undefined, ef);
    const accept = (slot: number): boolean => matchesFilter(this.payloads[slot]!, filter);
    const candidates = this.indexedCandidates(filter);
    if (candidates && candidates.length <= this.tuning.exactSearchThreshold) return this.exactSearch(query, candidates.filter(accept), want);
    const selectivity = candidates ? Math.max(candidates.length / live, 1e-6) : 0.5;
    let k = Math.min(live, Math.ceil((want / selectivity) * 1.5) + 16);
    for (;;) {
      const hits = await this.graphSearch(query, k, accept, ef);
      if (hits.length >= want || k >= live) return hits.slice(0, want);
      if (k >= MAX_OVERFETCH) break;
      k = Math.min(live, k * 4);
    }
    const pool = candidates ?? [...this.idToSlot.values()];
    return this.exactSearch(query, pool.filter(accept), want);
  }

  private async graphSearch(query: Float32Array, k: number, accept?: (slot: number) => boolean, ef?: number): Promise<Scored[]> {
    // Asking USearch for ef results makes it walk with ef = max(expansion_search, ef): the per-query knob.
    const matches = await this.hnsw.search(query, Math.max(k, ef ?? 0));
    // Checked after the await: a slot removed meanwhile (ids[slot] cleared at once) is skipped.
    const hits: Scored[] = [];
    for (let i = 0; i < matches.keys.length && hits.length < k; i++) {
      const slot = Number(matches.keys[i]);
      if (this.ids[slot] === undefined || (accept && !accept(slot))) continue;
      hits.push({ slot, score: 1 - matches.distances[i]! });
    }
    return hits;
  }

  /** Brute-force cosine over a gathered candidate set (int8 SIMD in USearch). */
  private exactSearch(query: Float32Array, slots: readonly number[], want: number): Scored[] {
    if (slots.length === 0) return [];
    const dim = this.meta.dimension;
    // Fresh arrays on purpose: USearch's exactSearch reads from the ArrayBuffer's start and ignores
    // a view's byteOffset, so a subarray query would silently be another vector.
    const dataset = new Int8Array(slots.length * dim);
    slots.forEach((slot, row) => dataset.set(this.vectorOf(slot), row * dim));
    const matches = exactSearch(dataset, quantizeI8(query), dim, Math.min(want, slots.length), MetricKind.Cos, 1) as Matches;
    return Array.from(matches.keys, (row, i) => ({ slot: slots[Number(row)]!, score: 1 - matches.distances[i]! }));
  }

  /** Slots of the most selective indexed `must` condition, or undefined when no condition is indexed. */
  private indexedCandidates(filter: PayloadFilter): number[] | undefined {
    let best: SlotSet[] | undefined;
    let bestSize = Infinity;
    for (const condition of filter.must ?? []) {
      const index = this.keyword.get(condition.key);
      if (!index) continue;
      const sets = conditionValues(condition).flatMap((value) => index.get(valueKey(value)) ?? []);
      const size = sets.reduce((sum, set) => sum + set.size, 0);
      if (size < bestSize) {
        best = sets;
        bestSize = size;
      }
    }
    if (!best) return undefined;
    return best.length === 1 ? best[0]!.toArray() : [...new Set(best.flatMap((set) => set.toArray()))];
  }

  private matchingSlots(filter: PayloadFilter): number[] {
    const pool = this.indexedCandidates(filter) ?? this.idToSlot.values();
    const result: number[] = [];
    for (const slot of pool) if (matchesFilter(this.payloads[slot]!, filter)) result.push(slot);
    return result;
  }

  private place(slot: number, id: string, payload: Record<string, unknown>, sparse: SparseVector): void {
    this.ids[slot] = id;
    this.payloads[slot] = payload;
    this.idToSlot.set(id, slot);
    this.sparse.add(slot, sparse);
    for (const [key, index] of this.keyword) this.indexValue(index, slot, payload[key]);
  }

  /** Removes at once from memory; `done` when the graph has dropped them too. */
  private removeSlots(slots: readonly number[]): { count: number; done: Promise<void> } {
    if (slots.length === 0) return { count: 0, done: Promise.resolve() };
    for (const slot of slots) {
      const payload = this.payloads[slot]!;
      for (const [key, index] of this.keyword) this.unindexValue(index, slot, payload[key]);
      this.idToSlot.delete(this.ids[slot]!);
      this.ids[slot] = undefined;
      this.payloads[slot] = undefined;
      this.sparse.remove(slot);
      this.vectorOf(slot).fill(0);
    }
    this.log({ r: [...slots] });
    const done = this.hnsw.remove(BigUint64Array.from(slots, (slot) => BigInt(slot)));
    this.dirty = true;
    return { count: slots.length, done };
  }

  private log(record: LogRecord): void {
    if (this.unloggedOverflow) return;
    this.unlogged.push(record);
    if (this.unlogged.length > MAX_UNLOGGED) {
      this.unlogged.length = 0;
      this.unloggedOverflow = true;
    }
  }

  private indexValue(index: Map<string, SlotSet>, slot: number, value: unknown): void {
    for (const element of Array.isArray(value) ? value : [value]) {
      if (element === undefined || element === null || typeof element === 'object') continue;
      const key = valueKey(element as PayloadScalar);
      let set = index.get(key);
      if (!set) index.set(key, (set = new SlotSet()));
      set.add(slot);
    }
  }

  private unindexValue(index: Map<string, SlotSet>, slot: number, value: unknown): void {
    for (const element of Array.isArray(value) ? value : [value]) {
      const key = valueKey(element);
      const set = index.get(key);
      set?.delete(slot);
      if (set?.size === 0) index.delete(key);
    }
  }

  /** The int8 vector of an allocated slot: a view into its page, written in place. */
  private vectorOf(slot: number): Int8Array {
    const dim = this.meta.dimension;
    const at = (slot % VECTOR_PAGE_SLOTS) * dim;
    return this.pages[Math.floor(slot / VECTOR_PAGE_SLOTS)]!.subarray(at, at + dim);
  }

  private reserve(slots: number): void {
    while (this.pages.length * VECTOR_PAGE_SLOTS < slots) this.pages.push(new Int8Array(VECTOR_PAGE_SLOTS * this.meta.dimension));
  }
}
