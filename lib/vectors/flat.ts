/**
 * A small exact index held wholly in memory and serialisable to bytes: the building block of
 * per-user private indexes (a user's notes: thousands of items, not millions). Same search
 * semantics as a VectorStore collection (dense cosine, sparse idf, hybrid RRF, payload filters),
 * exact rather than approximate because a brute-force SIMD scan of 10k vectors is cheap.
 *
 * Vectors are held as int8 (each row scaled so its largest component is ±127; cosine ignores the
 * scale). Measured here on 10k × 384: USearch's exact int8 cosine scan takes ~0.7 ms where its f32
 * scan takes ~15 ms, and the stored object is a quarter of the size; ranking agrees with f32
 * (recall@10 ≥ 0.97 in flat.test.ts), and scores are the cosine of the quantised vectors.
 *
 * A loaded index is "frozen": vectors, posting lists and payload offsets are views of the stored
 * bytes, payloads are parsed only when a hit or a filter needs them, so a cold load is a copy and
 * a bounds check, not a rebuild (10k notes: ~380 ms with the v1 format, a few ms with v2). The
 * first write "thaws" it into the mutable structures (the write path re-serialises anyway).
 */
import { MetricKind, exactSearch } from 'usearch';
import type { Matches } from 'usearch';
import { quantizeI8 } from './exact.js';
import { isEmptyFilter, matchesFilter, validateFilter } from './filter.js';
import { prefetchLimit, reciprocalRankFusion } from './fusion.js';
import { FrozenPostings, SparseIndex } from './sparseIndex.js';
import type { PayloadFilter, SearchHit, SearchRequest, SparseVector, VectorPoint } from './types.js';
import { VectorStoreError } from './types.js';
import { validateIds, validatePoints, validateSearch } from './validate.js';

/** v1: JSON header with ids + payloads, f32 vectors, per-item sparse vectors (read only). */
const MAGIC_V1 = 'FLAT1';
/** v2: see `serialize`. */
const MAGIC_V2 = 'FLAT2\0\0\0';
/** A loosely filtered dense query first ranks this many times `want` candidates before ranking all. */
const FILTER_OVERFETCH = 8;

type Scored = { slot: number; score: number };

interface V2Header {
  readonly version: 2;
  readonly embedderId: string;
  readonly dimension: number;
  readonly count: number;
  readonly terms: number;
  readonly postings: number;
  readonly payloadBytes: number;
  readonly vectors: 'i8';
}

const align4 = (n: number): number => Math.ceil(n / 4) * 4;

export class FlatIndex {
  /** int8 rows by slot, own buffer from byte 0 (USearch's exactSearch ignores a view's byteOffset). */
  private vectors: Int8Array;
  /** Ids by slot; undefined once deleted (slots compact away on the next search or serialise). */
  private ids: Array<string | undefined> = [];
  /** Payloads by slot, parsed on first use when the index was loaded from bytes. */
  private payloads: Array<Record<string, unknown> | undefined> = [];
  private payloadSource: { text: Buffer; offsets: Uint32Array } | undefined;
  /** Postings straight from the stored bytes until the first write… */
  private frozen: FrozenPostings | undefined;
  /** …then a mutable inverted index. */
  private sparse: SparseIndex | undefined = new SparseIndex();
  private bySlotMap: Map<string, number> | undefined = new Map();
  private dead = 0;
  /** Sparse terms held (live and dead), for byteSize. */
  private terms = 0;

  constructor(
    readonly embedderId: string,
    readonly dimension: number,
  ) {
    this.vectors = new Int8Array(64 * dimension);
  }

  get size(): number {
    return this.ids.length - this.dead;
  }

  /** Approximate memory held, O(1), for cache accounting. */
  get byteSize(): number {
    const source = this.payloadSource ? this.payloadSource.text.byteLength + this.payloadSource.offsets.byteLength : 0;
    return this.vectors.byteLength + source + this.ids.length * 200 + this.terms * 24;
  }

  has(id: string): boolean {
    return this.bySlot().has(id);
  }

  upsert(points: readonly VectorPoint[]): void {
    validatePoints(points, this.dimension);
    this.thaw();
    this.deleteIds(points.map((p) => p.id));
    for (const point of points) {
      const payload = JSON.parse(JSON.stringify(point.payload)) as Record<string, unknown>;
      this.append(point.id, payload, { indices: [...point.sparse.indices], values: [...point.sparse.values] }, quantizeI8(point.dense));
    }
  }

  deleteIds(ids: readonly string[]): number {
    validateIds(ids);
    this.thaw();
    const bySlot = this.bySlot();
    let removed = 0;
    for (const id of ids) {
      const slot = bySlot.get(id);
      if (slot === undefined) continue;
      bySlot.delete(id);
      this.ids[slot] = undefined;
      this.payloads[slot] = undefined;
      this.sparse!.remove(slot);
      this.dead++;
      removed++;
    }
    return removed;
  }

  delete(filter: PayloadFilter): number {
    validateFilter(filter);
    const ids = this.ids.flatMap((id, slot) => (id !== undefined && matchesFilter(this.payload(slot), filter) ? [id] : []));
    return this.deleteIds(ids);
  }

  search(request: SearchRequest): SearchHit[] {
    const offset = validateSearch(request, this.dimension);
    this.compact();
    const want = offset + request.limit;
    const filter = isEmptyFilter(request.filter) ? undefined : request.filter;
    // A filter is evaluated once per query into a mask (n is small): both branches then test a byte.
    const mask = filter && this.filterMask(filter);
    let ranked: Scored[];
    if (request.mode === 'dense') ranked = this.dense(request.dense!, want, mask);
    else if (request.mode === 'sparse') ranked = this.sparseSearch(request.sparse!, want, mask);
    else {
      // Slots are stable within one search (no compaction until the next call), so fuse by slot.
      const candidates = prefetchLimit(request.limit, offset);
      const keys = (hits: Scored[]): string[] => hits.map((hit) => String(hit.slot));
      ranked = reciprocalRankFusion([keys(this.dense(request.dense!, candidates, mask)), keys(this.sparseSearch(request.sparse!, candidates, mask))]).map((hit) => ({
        slot: Number(hit.id),
        score: hit.score,
      }));
    }
    return ranked.slice(offset, want).map(({ slot, score }) => ({ id: this.ids[slot]!, score, payload: structuredClone(this.payload(slot)) }));
  }

  /**
   * Layout v2 (little-endian, every section starts on a 4-byte boundary):
   *   "FLAT2\0\0\0", u32 header length, header JSON {version, embedderId, dimension, count, terms,
   *   postings, payloadBytes, vectors: 'i8'};
   *   i8 vectors [count × dimension]; u32 term ids [terms] (ascending); u32 term starts [terms + 1];
   *   u32 posting slots [postings]; f32 posting values [postings]; u32 payload offsets [count + 1];
   *   ids as one JSON array; payloads as concatenated JSON texts (utf8, `payloadBytes` long).
   * Posting lists are stored as they are searched, so loading them is a view, not a rebuild.
   */
  serialize(): Buffer {
    this.compact();
    const n = this.ids.length;
    const dim = this.dimension;
    const postings = this.frozen ?? FrozenPostings.fromSparse(this.sparse!, n);
    const payloadTexts = this.ids.map((_, slot) => this.payloadText(slot));
    const payloadText = Buffer.from(payloadTexts.join(''));
    const payloadOffsets = new Uint32Array(n + 1);
    for (let slot = 0, at = 0; slot < n; slot++) payloadOffsets[slot + 1] = at += Buffer.byteLength(payloadTexts[slot]!);
    const idsJson = Buffer.from(JSON.stringify(this.ids));
    const header: V2Header = {
      version: 2,
      embedderId: this.embedderId,
      dimension: dim,
      count: n,
      terms: postings.terms.length,
      postings: postings.slots.length,
      payloadBytes: payloadText.byteLength,
      vectors: 'i8',
    };
    const headerJson = Buffer.from(JSON.stringify(header));
    const sections: Uint8Array[] = [
      this.vectors.subarray(0, n * dim) as unknown as Uint8Array,
      postings.terms,
      postings.starts,
      postings.slots,
      postings.values,
      payloadOffsets,
    ].map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    let size = align4(MAGIC_V2.length + 4 + headerJson.length);
    for (const section of sections) size += align4(section.byteLength);
    size += idsJson.length + payloadText.length;
    const out = Buffer.alloc(size);
    out.write(MAGIC_V2, 0, 'latin1');
    out.writeUInt32LE(headerJson.length, MAGIC_V2.length);
    headerJson.copy(out, MAGIC_V2.length + 4);
    let at = align4(MAGIC_V2.length + 4 + headerJson.length);
    for (const section of sections) {
      out.set(section, at);
      at += align4(section.byteLength);
    }
    idsJson.copy(out, at);
    payloadText.copy(out, at + idsJson.length);
    return out;
  }

  /** Reads v2 (and legacy v1) bytes; throws VectorStoreError('INDEX_CORRUPT') for anything else. */
  static deserialize(bytes: Buffer): FlatIndex {
    if (bytes.length >= MAGIC_V2.length && bytes.toString('latin1', 0, MAGIC_V2.length) === MAGIC_V2) return deserializeV2(bytes);
    if (bytes.length >= MAGIC_V1.length && bytes.toString('latin1', 0, MAGIC_V1.length) === MAGIC_V1) return deserializeV1(bytes);
    throw corrupt('bad magic');
  }

  /** @internal Installs the frozen sections of a v2 object (deserializeV2 only). */
  static frozenFrom(header: V2Header, vectors: Int8Array, ids: string[], postings: FrozenPostings, payloads: { text: Buffer; offsets: Uint32Array }): FlatIndex {
    const index = new FlatIndex(header.embedderId, header.dimension);
    index.vectors = vectors;
    index.ids = ids;
    index.payloads = new Array<Record<string, unknown> | undefined>(ids.length);
    index.payloadSource = payloads;
    index.frozen = postings;
    index.sparse = undefined;
    index.bySlotMap = undefined;
    index.terms = postings.slots.length;
    return index;
  }

  // ---------------------------------------------------------------------------------------------

  private bySlot(): Map<string, number> {
    if (!this.bySlotMap) {
      this.bySlotMap = new Map();
      this.ids.forEach((id, slot) => id !== undefined && this.bySlotMap!.set(id, slot));
    }
    return this.bySlotMap;
  }

  private payload(slot: number): Record<string, unknown> {
    let payload = this.payloads[slot];
    if (payload === undefined) {
      const source = this.payloadSource!;
      payload = JSON.parse(source.text.toString('utf8', source.offsets[slot]!, source.offsets[slot + 1]!)) as Record<string, unknown>;
      this.payloads[slot] = payload;
    }
    return payload;
  }

  private payloadText(slot: number): string {
    const source = this.payloadSource;
    if (this.payloads[slot] === undefined && source) return source.text.toString('utf8', source.offsets[slot]!, source.offsets[slot + 1]!);
    return JSON.stringify(this.payloads[slot]);
  }

  /** Turns a loaded (frozen) index into the mutable one before its first write. */
  private thaw(): void {
    const frozen = this.frozen;
    if (!frozen) return;
    for (let slot = 0; slot < this.ids.length; slot++) this.payload(slot);
    this.payloadSource = undefined;
    const sparse = new SparseIndex();
    frozen.perSlot(this.ids.length).forEach((vector, slot) => sparse.add(slot, vector));
    this.sparse = sparse;
    this.frozen = undefined;
    this.bySlot();
    // Give the vectors room to grow (the loaded block is exactly `count` rows).
    const grown = new Int8Array(Math.max(64, this.ids.length * 2) * this.dimension);
    grown.set(this.vectors.subarray(0, this.ids.length * this.dimension));
    this.vectors = grown;
  }

  private append(id: string, payload: Record<string, unknown>, sparse: SparseVector, dense: Int8Array): void {
    const slot = this.ids.length;
    const dim = this.dimension;
    if ((slot + 1) * dim > this.vectors.length) {
      const grown = new Int8Array(Math.max((slot + 1) * dim, this.vectors.length * 2));
      grown.set(this.vectors);
      this.vectors = grown;
    }
    this.vectors.set(dense, slot * dim);
    this.ids.push(id);
    this.payloads.push(payload);
    this.bySlot().set(id, slot);
    this.sparse!.add(slot, sparse);
    this.terms += sparse.indices.length;
  }

  /** Drops deleted slots so the vector block holds only live rows (a whole-block scan needs that). */
  private compact(): void {
    if (this.dead === 0) return;
    const sparse = this.sparse!;
    const live = this.ids.flatMap((id, slot) => (id !== undefined ? [{ id, slot, payload: this.payloads[slot]!, vector: sparse.vector(slot)! }] : []));
    const old = this.vectors;
    const dim = this.dimension;
    this.vectors = new Int8Array(Math.max(64, live.length) * dim);
    this.ids = [];
    this.payloads = [];
    this.bySlotMap = new Map();
    this.sparse = new SparseIndex();
    this.dead = 0;
    this.terms = 0;
    for (const { id, slot, payload, vector } of live) this.append(id, payload, vector, old.subarray(slot * dim, (slot + 1) * dim));
  }

  private filterMask(filter: PayloadFilter): { bits: Uint8Array; count: number } {
    const bits = new Uint8Array(this.ids.length);
    let count = 0;
    for (let slot = 0; slot < bits.length; slot++) {
      if (this.ids[slot] !== undefined && matchesFilter(this.payload(slot), filter)) {
        bits[slot] = 1;
        count++;
      }
    }
    return { bits, count };
  }

  private dense(query: Float32Array, want: number, mask: { bits: Uint8Array; count: number } | undefined): Scored[] {
    const n = this.ids.length;
    const dim = this.dimension;
    if (n === 0 || mask?.count === 0) return [];
    const q = quantizeI8(query);
    if (mask && mask.count * 4 < n) {
      // A selective filter: scan only the rows that pass (gathered into a block of their own).
      const rows: number[] = [];
      const block = new Int8Array(mask.count * dim);
      for (let slot = 0; slot < n; slot++) {
        if (mask.bits[slot] === 0) continue;
        block.set(this.vectors.subarray(slot * dim, (slot + 1) * dim), rows.length * dim);
        rows.push(slot);
      }
      const matches = exactSearch(block, q, dim, Math.min(want, rows.length), MetricKind.Cos, 1) as Matches;
      return Array.from(matches.keys, (row, i) => ({ slot: rows[Number(row)]!, score: 1 - matches.distances[i]! }));
    }
    const dataset = this.vectors.subarray(0, n * dim);
    // No filter, or one that keeps over a quarter: rank a few times `want`, everything only if too few pass.
    let k = mask ? Math.min(n, want * FILTER_OVERFETCH) : Math.min(want, n);
    for (;;) {
      const matches = exactSearch(dataset, q, dim, k, MetricKind.Cos, 1) as Matches;
      const hits: Scored[] = [];
      for (let i = 0; i < matches.keys.length && hits.length < want; i++) {
        const slot = Number(matches.keys[i]);
        if (mask && mask.bits[slot] === 0) continue;
        hits.push({ slot, score: 1 - matches.distances[i]! });
      }
      if (hits.length >= want || k >= n) return hits;
      k = n;
    }
  }

  private sparseSearch(query: SparseVector, want: number, mask: { bits: Uint8Array } | undefined): Scored[] {
    const accept = mask && ((slot: number) => mask.bits[slot] === 1);
    return this.frozen ? this.frozen.search(query, want, accept) : this.sparse!.search(query, want, accept);
  }
}

function corrupt(why: string, cause?: unknown): VectorStoreError {
  return new VectorStoreError('INDEX_CORRUPT', `flat index bytes are unusable: ${why}`, { cause });
}

function deserializeV2(bytes: Buffer): FlatIndex {
  if (bytes.length < MAGIC_V2.length + 4) throw corrupt('truncated header');
  const headerLength = bytes.readUInt32LE(MAGIC_V2.length);
  let header: V2Header;
  try {
    header = JSON.parse(bytes.toString('utf8', MAGIC_V2.length + 4, MAGIC_V2.length + 4 + headerLength)) as V2Header;
  } catch (error) {
    throw corrupt('header is not JSON', error);
  }
  const { dimension, count, terms, postings, payloadBytes } = header;
  const sizes = [dimension, count, terms, postings, payloadBytes];
  if (header.version !== 2 || header.vectors !== 'i8' || typeof header.embedderId !== 'string' || !sizes.every((x) => Number.isInteger(x) && x >= 0) || dimension < 1) {
    throw corrupt('header is inconsistent');
  }
  // Copy the binary sections into one aligned buffer (Buffers from files or S3 sit at any offset,
  // and USearch reads a view from its ArrayBuffer's start).
  let at = align4(MAGIC_V2.length + 4 + headerLength);
  const lengths = [count * dimension, 4 * terms, 4 * (terms + 1), 4 * postings, 4 * postings, 4 * (count + 1)];
  const binaryEnd = at + lengths.reduce((sum, length) => sum + align4(length), 0);
  if (binaryEnd > bytes.length) throw corrupt('truncated');
  const take = (length: number): ArrayBuffer => {
    const copy = new Uint8Array(length);
    copy.set(bytes.subarray(at, at + length));
    at += align4(length);
    return copy.buffer;
  };
  const vectors = new Int8Array(take(lengths[0]!));
  const termIds = new Uint32Array(take(lengths[1]!));
  const starts = new Uint32Array(take(lengths[2]!));
  const slots = new Uint32Array(take(lengths[3]!));
  const values = new Float32Array(take(lengths[4]!));
  const offsets = new Uint32Array(take(lengths[5]!));
  const idsEnd = bytes.length - payloadBytes;
  if (idsEnd < at) throw corrupt('truncated');
  let ids: unknown;
  try {
    ids = JSON.parse(bytes.toString('utf8', at, idsEnd));
  } catch (error) {
    throw corrupt('ids are not JSON', error);
  }
  if (!Array.isArray(ids) || ids.length !== count || !ids.every((id) => typeof id === 'string')) throw corrupt('ids are inconsistent');
  // Bounds checks make every later read safe (O(count + terms + postings), no parsing).
  if (starts[0] !== 0 || starts[terms] !== postings || offsets[0] !== 0 || offsets[count] !== payloadBytes) throw corrupt('section offsets are inconsistent');
  for (let t = 0; t < terms; t++) if (starts[t + 1]! < starts[t]! || (t > 0 && termIds[t]! <= termIds[t - 1]!)) throw corrupt('posting lists are out of order');
  for (let i = 0; i < count; i++) if (offsets[i + 1]! < offsets[i]!) throw corrupt('payload offsets are out of order');
  for (let p = 0; p < postings; p++) if (slots[p]! >= count || !Number.isFinite(values[p]!)) throw corrupt('a posting is out of range');
  const payloadText = bytes.subarray(idsEnd);
  return FlatIndex.frozenFrom(header, vectors, ids as string[], new FrozenPostings(termIds, starts, slots, values, count), { text: payloadText, offsets });
}

/** The v1 layout (JSON header with ids and payloads, f32 vectors): read and rebuilt, never written. */
function deserializeV1(bytes: Buffer): FlatIndex {
  const headerLength = bytes.readUInt32LE(MAGIC_V1.length);
  let header: { embedderId: string; dimension: number; count: number; ids: string[]; payloads: Array<Record<string, unknown>> };
  try {
    header = JSON.parse(bytes.toString('utf8', MAGIC_V1.length + 4, MAGIC_V1.length + 4 + headerLength));
  } catch (error) {
    throw corrupt('header is not JSON', error);
  }
  const { dimension, count } = header;
  const start = Math.ceil((MAGIC_V1.length + 4 + headerLength) / 4) * 4;
  if (!Number.isInteger(dimension) || dimension < 1 || !Number.isInteger(count) || header.ids?.length !== count || header.payloads?.length !== count) throw corrupt('header is inconsistent');
  if (bytes.length < start + 4 * (count * dimension + count)) throw corrupt('truncated');
  const body = new Uint8Array(bytes.length - start);
  body.set(bytes.subarray(start));
  const floats = new Float32Array(body.buffer, 0, count * dimension);
  const counts = new Uint32Array(body.buffer, floats.byteLength, count);
  const terms = counts.reduce((sum, c) => sum + c, 0);
  if (body.byteLength !== floats.byteLength + counts.byteLength + 8 * terms) throw corrupt('sparse section has the wrong size');
  const indices = new Uint32Array(body.buffer, floats.byteLength + counts.byteLength, terms);
  const values = new Float32Array(body.buffer, indices.byteOffset + indices.byteLength, terms);
  const index = new FlatIndex(header.embedderId, dimension);
  const points: VectorPoint[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const n = counts[i]!;
    points.push({ id: header.ids[i]!, dense: floats.slice(i * dimension, (i + 1) * dimension), payload: header.payloads[i]!, sparse: { indices: Array.from(indices.subarray(at, at + n)), values: Array.from(values.subarray(at, at + n)) } });
    at += n;
  }
  try {
    index.upsert(points);
  } catch (error) {
    throw corrupt('v1 items do not validate', error);
  }
  return index;
}
