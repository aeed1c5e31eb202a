/**
 * Per-user private indexes: each user's own notes and highlights in a small exact index
 * (lib/vectors FlatIndex: dense + sparse, hybrid RRF), stored in the object store under keys of
 * its own, loaded on demand into a bounded LRU cache (sized in bytes) and evicted when cold.
 *
 * Storage is a base plus a log of small deltas, so a write costs the size of the change, not of
 * the user's whole index (rewriting the whole index on every note made note writes slower the
 * more notes a user had, issue 17's soak):
 * - `<user>.flat`: the serialised FlatIndex, covering deltas up to `head.base`;
 * - `<user>.d<n>`: one write's upserts and deletes (JSON, vectors as float32), n = base+1..seq;
 * - `<user>.head`: `{ base, seq }`, written after each delta; deltas past `seq` are ignored.
 * Once the deltas outweigh the base (or number DELTA_MAX_COUNT, which bounds a cold load), the base
 * is rewritten and the head moved. Replaying deltas over a base that already holds them is
 * harmless (upserts and deletes by id, in order), so a crash between the two puts loses nothing.
 * One user's index is a separate object end to end, so a query for user B can never see user A's
 * items. The index is derived from the ugc notes: a missing, corrupt or stale (other embedder)
 * object is reported through `onStale` so the owner can rebuild it, and starts empty meanwhile.
 */
import { LRUCache } from 'lru-cache';
import { FolioError } from '../../../lib/errors.js';
import type { ObjectStore } from '../../../lib/objectStore.js';
import { FlatIndex } from '../../../lib/vectors/index.js';
import type { PayloadFilter, SearchHit, SearchMode } from '../../../lib/vectors/index.js';
import type { Embedder } from './embedder.js';
import { queryToSparse, toSparse } from './sparse.js';
import { tokenize } from './tokenize.js';

export interface PrivateItem {
  readonly id: string;
  readonly kind: 'note' | 'highlight';
  readonly text: string;
  readonly bookId: string;
  /** Extra client-safe fields returned with hits (chapterId, offsets, createdAt…). */
  readonly payload?: Record<string, unknown>;
}

export interface PrivateSearchOptions {
  readonly limit?: number;
  readonly offset?: number;
  readonly mode?: SearchMode;
  readonly bookId?: string;
  readonly kind?: 'note' | 'highlight';
}

export interface PrivateIndexOptions {
  readonly store: ObjectStore;
  readonly embedder: Embedder;
  /** Cache budget in bytes (FOLIO_PRIVATE_INDEX_CACHE_MB). */
  readonly maxCacheBytes: number;
  /** Most items one user's index holds. @default 20000 */
  readonly maxItemsPerUser?: number;
  /** Called when a stored index is unusable or built by another embedder: rebuild it from ugc. */
  readonly onStale?: (userId: string, reason: string) => void;
}

const USER_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** Most deltas kept beside a base: a cold load reads at most this many objects besides it. */
const DELTA_MAX_COUNT = 128;
/** Deltas are folded into the base once they outweigh it (and this floor). */
const DELTA_MIN_FOLD_BYTES = 64 * 1024;

/** One write, as stored in a delta object. */
interface DeltaRecord {
  readonly v: 1;
  /** Upserts: dense vectors as base64 float32, so replay quantises exactly as the first write did. */
  readonly u: Array<{ id: string; dense: string; sparse: { indices: number[]; values: number[] }; payload: Record<string, unknown> }>;
  readonly d: string[];
}

interface Head {
  /** Deltas up to this one are in the base object. */
  base: number;
  /** The newest delta written. */
  seq: number;
  /** The embedder whose vectors the deltas hold (a base records its own). */
  embedderId?: string;
  dimension?: number;
}

/** A loaded index and where its stored form stands. */
interface Loaded {
  readonly index: FlatIndex;
  head: Head;
  /** Size of the stored base, and of the deltas written since it: the fold rule compares them. */
  baseBytes: number;
  deltaBytes: number;
}

const encodeDense = (dense: Float32Array): string => Buffer.from(dense.buffer, dense.byteOffset, dense.byteLength).toString('base64');
const decodeDense = (text: string): Float32Array => {
  const bytes = Buffer.from(text, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};
const MAX_TEXT_CHARS = 20_000;
const MAX_QUERY_CHARS = 1_000;
/**
 * Most hits one search returns: a client page of at most 100 (the API's page bound) plus the one
 * extra hit a caller fetches to learn whether there is a next page. At 100, `first: 100` was refused.
 */
export const MAX_PRIVATE_SEARCH_LIMIT = 101;

export class PrivateIndexService {
  private readonly cache: LRUCache<string, Loaded>;
  private readonly loading = new Map<string, Promise<Loaded>>();
  /** Per-user write chains: load-modify-store of one user never interleaves. */
  private readonly writes = new Map<string, Promise<unknown>>();

  constructor(private readonly options: PrivateIndexOptions) {
    this.cache = new LRUCache<string, Loaded>({
      maxSize: options.maxCacheBytes,
      sizeCalculation: (loaded) => Math.max(1, loaded.index.byteSize),
      // One user's index larger than the whole budget is served uncached rather than thrashing.
      maxEntrySize: options.maxCacheBytes,
    });
  }

  static objectKey(userId: string): string {
    return `private-index/v1/${userId}.flat`;
  }

  static headKey(userId: string): string {
    return `private-index/v1/${userId}.head`;
  }

  static deltaKey(userId: string, seq: number): string {
    return `private-index/v1/${userId}.d${seq}`;
  }

  /** Adds or replaces items in the user's index and stores it. */
  async upsert(userId: string, items: readonly PrivateItem[]): Promise<void> {
    checkUser(userId);
    for (const item of items) {
      if (typeof item.id !== 'string' || item.id.length === 0 || item.id.length > 256) throw new FolioError('BAD_USER_INPUT', 'invalid item id');
      if (typeof item.text !== 'string' || item.text.length > MAX_TEXT_CHARS) throw new FolioError('PAYLOAD_TOO_LARGE', `item text is limited to ${MAX_TEXT_CHARS} characters`);
    }
    if (items.length === 0) return;
    const dense = await this.options.embedder.embed(items.map((item) => item.text));
    const points = items.map((item, i) => ({
      id: item.id,
      dense: dense[i]!,
      sparse: toSparse(tokenize(item.text)),
      payload: { ...item.payload, kind: item.kind, bookId: item.bookId, text: item.text },
    }));
    await this.write(userId, (index) => {
      const fresh = items.filter((item) => !index.has(item.id)).length;
      if (index.size + fresh > (this.options.maxItemsPerUser ?? 20_000)) throw new FolioError('BAD_USER_INPUT', 'too many items in one private index');
      index.upsert(points);
      return { v: 1, u: points.map((p) => ({ id: p.id, dense: encodeDense(p.dense), sparse: { indices: [...p.sparse.indices], values: [...p.sparse.values] }, payload: p.payload })), d: [] };
    });
  }

  async remove(userId: string, ids: readonly string[]): Promise<void> {
    checkUser(userId);
    await this.write(userId, (index) => {
      index.deleteIds(ids);
      return { v: 1, u: [], d: [...ids] };
    });
  }

  async search(userId: string, query: string, options: PrivateSearchOptions = {}): Promise<SearchHit[]> {
    checkUser(userId);
    if (typeof query !== 'string' || query.trim().length === 0) return [];
    if (query.length > MAX_QUERY_CHARS) throw new FolioError('BAD_USER_INPUT', `queries are limited to ${MAX_QUERY_CHARS} characters`);
    const limit = options.limit ?? 20;
    const offset = options.offset ?? 0;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PRIVATE_SEARCH_LIMIT) throw new FolioError('BAD_USER_INPUT', `limit must be in 1..${MAX_PRIVATE_SEARCH_LIMIT}`);
    if (!Number.isInteger(offset) || offset < 0 || offset > 1000) throw new FolioError('BAD_USER_INPUT', 'offset must be in 0..1000');
    const { index } = await this.load(userId);
    if (index.size === 0) return [];
    const mode = options.mode ?? 'hybrid';
    const [dense] = mode === 'sparse' ? [undefined] : await (this.options.embedder.embedQuery ?? this.options.embedder.embed).call(this.options.embedder, [query]);
    const must = [
      ...(options.bookId ? [{ key: 'bookId', match: options.bookId }] : []),
      ...(options.kind ? [{ key: 'kind', match: options.kind }] : []),
    ];
    const filter: PayloadFilter | undefined = must.length > 0 ? { must } : undefined;
    return index.search({ mode, dense, sparse: queryToSparse(tokenize(query)), limit, offset, filter });
  }

  /** Drops a user's index from memory (e.g. on sign-out); the stored copy stays. */
  evict(userId: string): void {
    this.cache.delete(userId);
  }

  /** Deletes a user's index everywhere (account deletion). */
  async purge(userId: string): Promise<void> {
    checkUser(userId);
    await this.chain(userId, async () => {
      const { store } = this.options;
      this.cache.delete(userId);
      const head = await this.readHead(userId);
      await store.delete(PrivateIndexService.headKey(userId));
      await store.delete(PrivateIndexService.objectKey(userId));
      for (let seq = head.base + 1; seq <= head.seq; seq++) await store.delete(PrivateIndexService.deltaKey(userId, seq));
    });
  }

  get cacheStats(): { users: number; bytes: number } {
    return { users: this.cache.size, bytes: this.cache.calculatedSize };
  }

  // ---------------------------------------------------------------------------------------------

  /** Where a user's stored index stands: its head, loading the user if needed (tests, metrics). */
  async storedState(userId: string): Promise<{ base: number; seq: number; baseBytes: number; deltaBytes: number }> {
    checkUser(userId);
    const loaded = await this.load(userId);
    return { ...loaded.head, baseBytes: loaded.baseBytes, deltaBytes: loaded.deltaBytes };
  }

  /**
   * Applies `change` to the user's index in memory and stores it as one delta (or, once the deltas
   * outweigh the base, as a new base). If storing fails the user is dropped from the cache, so the
   * next use reloads what the store really holds.
   */
  private write(userId: string, change: (index: FlatIndex) => DeltaRecord): Promise<void> {
    return this.chain(userId, async () => {
      const loaded = await this.load(userId);
      const record = change(loaded.index);
      try {
        await this.persist(userId, loaded, record);
      } catch (error) {
        this.cache.delete(userId);
        throw error;
      }
      // Re-set so the cache re-measures its size after the change.
      this.cache.set(userId, loaded);
    });
  }

  private headBytes(head: Head): Buffer {
    return Buffer.from(JSON.stringify({ base: head.base, seq: head.seq, embedderId: this.options.embedder.id, dimension: this.options.embedder.dimension }));
  }

  private async persist(userId: string, loaded: Loaded, record: DeltaRecord): Promise<void> {
    const { store } = this.options;
    const bytes = Buffer.from(JSON.stringify(record));
    const deltas = loaded.head.seq - loaded.head.base;
    if (deltas + 1 >= DELTA_MAX_COUNT || loaded.deltaBytes + bytes.length > Math.max(DELTA_MIN_FOLD_BYTES, loaded.baseBytes)) {
      // Fold: the in-memory index already holds every delta and this change.
      const base = loaded.index.serialize();
      const seq = loaded.head.seq + 1;
      await store.put(PrivateIndexService.objectKey(userId), base);
      await store.put(PrivateIndexService.headKey(userId), this.headBytes({ base: seq, seq }));
      const old = loaded.head;
      loaded.head = { base: seq, seq };
      loaded.baseBytes = base.length;
      loaded.deltaBytes = 0;
      // Deltas now in the base; a failure here only leaves garbage that the head already ignores.
      for (let n = old.base + 1; n <= old.seq; n++) await store.delete(PrivateIndexService.deltaKey(userId, n)).catch(() => undefined);
      return;
    }
    const seq = loaded.head.seq + 1;
    await store.put(PrivateIndexService.deltaKey(userId, seq), bytes);
    await store.put(PrivateIndexService.headKey(userId), this.headBytes({ base: loaded.head.base, seq }));
    loaded.head = { base: loaded.head.base, seq };
    loaded.deltaBytes += bytes.length;
  }

  private chain<T>(userId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.writes.get(userId) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.catch(() => undefined);
    this.writes.set(userId, tail);
    void tail.then(() => this.writes.get(userId) === tail && this.writes.delete(userId));
    return run;
  }

  private load(userId: string): Promise<Loaded> {
    const cached = this.cache.get(userId);
    if (cached) return Promise.resolve(cached);
    let pending = this.loading.get(userId);
    if (!pending) {
      pending = this.fetch(userId).finally(() => this.loading.delete(userId));
      this.loading.set(userId, pending);
    }
    return pending;
  }

  private async readHead(userId: string): Promise<Head> {
    const bytes = await this.options.store.get(PrivateIndexService.headKey(userId));
    if (!bytes) return { base: 0, seq: 0 };
    try {
      const head = JSON.parse(bytes.toString('utf8')) as Partial<Head>;
      if (Number.isSafeInteger(head.base) && Number.isSafeInteger(head.seq) && head.base! >= 0 && head.seq! >= head.base! && head.seq! - head.base! <= DELTA_MAX_COUNT) {
        return { base: head.base!, seq: head.seq!, ...(typeof head.embedderId === 'string' ? { embedderId: head.embedderId } : {}), ...(typeof head.dimension === 'number' ? { dimension: head.dimension } : {}) };
      }
    } catch {
      /* reported below */
    }
    this.options.onStale?.(userId, 'stored index head is unreadable');
    return { base: 0, seq: 0 };
  }

  private async fetch(userId: string): Promise<Loaded> {
    const { embedder, store } = this.options;
    const [bytes, head] = await Promise.all([store.get(PrivateIndexService.objectKey(userId)), this.readHead(userId)]);
    let index: FlatIndex | undefined;
    if (bytes) {
      try {
        index = FlatIndex.deserialize(bytes);
        if (index.embedderId !== embedder.id || index.dimension !== embedder.dimension) {
          this.options.onStale?.(userId, `built by ${index.embedderId}, current embedder is ${embedder.id}`);
          index = undefined;
        }
      } catch (error) {
        this.options.onStale?.(userId, `stored index is unreadable: ${(error as Error).message}`);
      }
    }
    let stale = bytes !== null && index === undefined;
    if (!stale && head.seq > head.base && head.embedderId !== undefined && (head.embedderId !== embedder.id || head.dimension !== embedder.dimension)) {
      this.options.onStale?.(userId, `built by ${head.embedderId}, current embedder is ${embedder.id}`);
      stale = true;
    }
    index ??= new FlatIndex(embedder.id, embedder.dimension);
    let deltaBytes = 0;
    if (!stale) {
      // Deltas of another embedder's index are as unusable as its base; otherwise replay them in order.
      for (let seq = head.base + 1; seq <= head.seq; seq++) {
        const delta = await store.get(PrivateIndexService.deltaKey(userId, seq));
        if (!delta) {
          this.options.onStale?.(userId, `stored index misses delta ${seq}`);
          continue;
        }
        try {
          applyDelta(index, JSON.parse(delta.toString('utf8')) as DeltaRecord);
          deltaBytes += delta.length;
        } catch (error) {
          this.options.onStale?.(userId, `stored index delta ${seq} is unreadable: ${(error as Error).message}`);
        }
      }
    }
    // A stale index starts over: the next write folds a fresh base (deltaBytes past the base).
    const loaded: Loaded = { index, head, baseBytes: stale ? 0 : (bytes?.length ?? 0), deltaBytes: stale ? DELTA_MIN_FOLD_BYTES : deltaBytes };
    this.cache.set(userId, loaded);
    return loaded;
  }
}

function applyDelta(index: FlatIndex, record: DeltaRecord): void {
  if (record.v !== 1 || !Array.isArray(record.u) || !Array.isArray(record.d)) throw new Error('unknown delta format');
  if (record.d.length > 0) index.deleteIds(record.d);
  if (record.u.length > 0) index.upsert(record.u.map((u) => ({ id: u.id, dense: decodeDense(u.dense), sparse: u.sparse, payload: u.payload })));
}

function checkUser(userId: string): void {
  if (typeof userId !== 'string' || !USER_ID.test(userId)) throw new FolioError('BAD_USER_INPUT', 'invalid user id');
}
