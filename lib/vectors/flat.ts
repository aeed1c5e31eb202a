/**
 * A small exact index held wholly in memory and serialisable to bytes: the building block of
 * per-user private indexes (a user's notes: thousands of items, not millions). Same search
 * semantics as a VectorStore collection (dense cosine, sparse idf, hybrid RRF, payload filters),
 * exact rather than approximate because a brute-force SIMD scan of 10k vectors takes well under
 * a millisecond.
 */
import { MetricKind, exactSearch } from 'usearch';
import type { Matches } from 'usearch';
import { isEmptyFilter, matchesFilter, validateFilter } from './filter.js';
import { prefetchLimit, reciprocalRankFusion } from './fusion.js';
import { SparseIndex } from './sparseIndex.js';
import type { PayloadFilter, SearchHit, SearchRequest, SparseVector, VectorPoint } from './types.js';
import { VectorStoreError } from './types.js';
import { validateIds, validatePoints, validateSearch } from './validate.js';

const MAGIC = 'FLAT1';

interface Item {
  id: string;
  payload: Record<string, unknown>;
  sparse: SparseVector;
}

export class FlatIndex {
  private vectors: Float32Array;
  /** Items by slot; undefined once deleted (slots compact away on the next search or serialise). */
  private items: Array<Item | undefined> = [];
  private readonly bySlot = new Map<string, number>();
  private sparse = new SparseIndex();
  private dead = 0;
  /** Sparse terms held (live and dead), for byteSize. */
  private terms = 0;

  constructor(
    readonly embedderId: string,
    readonly dimension: number,
  ) {
    this.vectors = new Float32Array(64 * dimension);
  }

  get size(): number {
    return this.bySlot.size;
  }

  /** Approximate memory held, O(1), for cache accounting (vectors exact; items and terms estimated). */
  get byteSize(): number {
    return this.vectors.byteLength + this.items.length * 400 + this.terms * 40;
  }

  has(id: string): boolean {
    return this.bySlot.has(id);
  }

  upsert(points: readonly VectorPoint[]): void {
    validatePoints(points, this.dimension);
    this.deleteIds(points.map((p) => p.id));
    for (const point of points) {
      const payload = JSON.parse(JSON.stringify(point.payload)) as Record<string, unknown>;
      this.append({ id: point.id, payload, sparse: { indices: [...point.sparse.indices], values: [...point.sparse.values] } }, point.dense, true);
    }
  }

  deleteIds(ids: readonly string[]): number {
    validateIds(ids);
    let removed = 0;
    for (const id of ids) {
      const slot = this.bySlot.get(id);
      if (slot === undefined) continue;
      this.bySlot.delete(id);
      this.items[slot] = undefined;
      this.sparse.remove(slot);
      this.dead++;
      removed++;
    }
    return removed;
  }

  delete(filter: PayloadFilter): number {
    validateFilter(filter);
    const ids = this.items.flatMap((item) => (item && matchesFilter(item.payload, filter) ? [item.id] : []));
    return this.deleteIds(ids);
  }

  search(request: SearchRequest): SearchHit[] {
    const offset = validateSearch(request, this.dimension);
    this.compact();
    const want = offset + request.limit;
    const filter = isEmptyFilter(request.filter) ? undefined : request.filter;
    let ranked: Array<{ slot: number; score: number }>;
    if (request.mode === 'dense') ranked = this.dense(request.dense!, want, filter);
    else if (request.mode === 'sparse') ranked = this.sparseSearch(request.sparse!, want, filter);
    else {
      const candidates = prefetchLimit(request.limit, offset);
      const ids = (hits: Array<{ slot: number }>): string[] => hits.map((hit) => this.items[hit.slot]!.id);
      ranked = reciprocalRankFusion([ids(this.dense(request.dense!, candidates, filter)), ids(this.sparseSearch(request.sparse!, candidates, filter))]).map(
        (hit) => ({ slot: this.bySlot.get(hit.id)!, score: hit.score }),
      );
    }
    return ranked.slice(offset, want).map(({ slot, score }) => {
      const item = this.items[slot]!;
      return { id: item.id, score, payload: structuredClone(item.payload) };
    });
  }

  /**
   * Layout: "FLAT1", u32 header length, header JSON {embedderId, dimension, count, ids, payloads},
   * padding to 4 bytes, then f32 vectors [count × dimension], u32 term counts [count],
   * u32 indices [Σ terms], f32 values [Σ terms]. Binary for the bulky parts so a cold load is a
   * copy, not a parse.
   */
  serialize(): Buffer {
    this.compact();
    const items = this.items as Item[];
    const header = Buffer.from(JSON.stringify({ embedderId: this.embedderId, dimension: this.dimension, count: items.length, ids: items.map((i) => i.id), payloads: items.map((i) => i.payload) }));
    const headerEnd = MAGIC.length + 4 + header.length;
    const start = Math.ceil(headerEnd / 4) * 4;
    const terms = items.reduce((sum, item) => sum + item.sparse.indices.length, 0);
    const n = items.length;
    const buffer = Buffer.alloc(start + 4 * (n * this.dimension + n + 2 * terms));
    buffer.write(MAGIC, 0, 'latin1');
    buffer.writeUInt32LE(header.length, MAGIC.length);
    header.copy(buffer, MAGIC.length + 4);
    const floats = new Float32Array(buffer.buffer, buffer.byteOffset + start, n * this.dimension);
    floats.set(this.vectors.subarray(0, n * this.dimension));
    const counts = new Uint32Array(buffer.buffer, buffer.byteOffset + start + floats.byteLength, n);
    const indices = new Uint32Array(buffer.buffer, counts.byteOffset + counts.byteLength, terms);
    const values = new Float32Array(buffer.buffer, indices.byteOffset + indices.byteLength, terms);
    let at = 0;
    items.forEach((item, i) => {
      counts[i] = item.sparse.indices.length;
      indices.set(item.sparse.indices, at);
      values.set(item.sparse.values, at);
      at += item.sparse.indices.length;
    });
    return buffer;
  }

  /** Throws VectorStoreError('INDEX_CORRUPT') for bytes that are not a FlatIndex. */
  static deserialize(bytes: Buffer): FlatIndex {
    const corrupt = (why: string, cause?: unknown): VectorStoreError => new VectorStoreError('INDEX_CORRUPT', `flat index bytes are unusable: ${why}`, { cause });
    if (bytes.length < MAGIC.length + 4 || bytes.toString('latin1', 0, MAGIC.length) !== MAGIC) throw corrupt('bad magic');
    const headerLength = bytes.readUInt32LE(MAGIC.length);
    let header: { embedderId: string; dimension: number; count: number; ids: string[]; payloads: Array<Record<string, unknown>> };
    try {
      header = JSON.parse(bytes.toString('utf8', MAGIC.length + 4, MAGIC.length + 4 + headerLength));
    } catch (error) {
      throw corrupt('header is not JSON', error);
    }
    const { dimension, count } = header;
    const start = Math.ceil((MAGIC.length + 4 + headerLength) / 4) * 4;
    if (!Number.isInteger(dimension) || !Number.isInteger(count) || header.ids?.length !== count || header.payloads?.length !== count) throw corrupt('header is inconsistent');
    if (bytes.length < start + 4 * (count * dimension + count)) throw corrupt('truncated');
    // Copy to an aligned buffer: Buffers from files or S3 may sit at any byte offset.
    const body = new Uint8Array(bytes.length - start);
    body.set(bytes.subarray(start));
    const floats = new Float32Array(body.buffer, 0, count * dimension);
    const counts = new Uint32Array(body.buffer, floats.byteLength, count);
    const terms = counts.reduce((sum, c) => sum + c, 0);
    if (body.byteLength !== floats.byteLength + counts.byteLength + 8 * terms) throw corrupt('sparse section has the wrong size');
    const indices = new Uint32Array(body.buffer, floats.byteLength + counts.byteLength, terms);
    const values = new Float32Array(body.buffer, indices.byteOffset + indices.byteLength, terms);
    const index = new FlatIndex(header.embedderId, dimension);
    let at = 0;
    for (let i = 0; i < count; i++) {
      const n = counts[i]!;
      const sparse = { indices: Array.from(indices.subarray(at, at + n)), values: Array.from(values.subarray(at, at + n)) };
      at += n;
      index.append({ id: header.ids[i]!, payload: header.payloads[i]!, sparse }, floats.subarray(i * dimension, (i + 1) * dimension), false);
    }
    return index;
  }

  // ---------------------------------------------------------------------------------------------

  private append(item: Item, dense: Float32Array, normalise: boolean): void {
    const slot = this.items.length;
    const dim = this.dimension;
    if ((slot + 1) * dim > this.vectors.length) {
      const grown = new Float32Array(Math.max((slot + 1) * dim, this.vectors.length * 2));
      grown.set(this.vectors);
      this.vectors = grown;
    }
    const target = this.vectors.subarray(slot * dim, (slot + 1) * dim);
    target.set(dense);
    if (normalise) {
      let norm = 0;
      for (let d = 0; d < dim; d++) norm += target[d]! * target[d]!;
      norm = Math.sqrt(norm);
      for (let d = 0; d < dim; d++) target[d]! /= norm;
    }
    this.items.push(item);
    this.bySlot.set(item.id, slot);
    this.sparse.add(slot, item.sparse);
    this.terms += item.sparse.indices.length;
  }

  /** Drops deleted slots so the vector block holds only live rows (a whole-block scan needs that). */
  private compact(): void {
    if (this.dead === 0) return;
    const live = this.items.flatMap((item, slot) => (item ? [{ item, slot }] : []));
    const old = this.vectors;
    const dim = this.dimension;
    this.vectors = new Float32Array(Math.max(64, live.length) * dim);
    this.items = [];
    this.bySlot.clear();
    this.sparse = new SparseIndex();
    this.dead = 0;
    this.terms = 0;
    for (const { item, slot } of live) this.append(item, old.subarray(slot * dim, (slot + 1) * dim), false);
  }

  private dense(query: Float32Array, want: number, filter: PayloadFilter | undefined): Array<{ slot: number; score: number }> {
    const n = this.items.length;
    if (n === 0) return [];
    // Without a filter ask for `want`; with one, rank everything and keep what passes (n is small).
    const k = filter ? n : Math.min(want, n);
    const matches = exactSearch(this.vectors.subarray(0, n * this.dimension), query, this.dimension, k, MetricKind.Cos, 1) as Matches;
    const hits: Array<{ slot: number; score: number }> = [];
    for (let i = 0; i < matches.keys.length && hits.length < want; i++) {
      const slot = Number(matches.keys[i]);
      if (filter && !matchesFilter(this.items[slot]!.payload, filter)) continue;
      hits.push({ slot, score: 1 - matches.distances[i]! });
    }
    return hits;
  }

  private sparseSearch(query: SparseVector, want: number, filter: PayloadFilter | undefined): Array<{ slot: number; score: number }> {
    return this.sparse.search(query, want, filter && ((slot) => matchesFilter(this.items[slot]!.payload, filter)));
  }
}
