/**
 * Per-user private indexes: each user's own notes and highlights in a small exact index
 * (lib/vectors FlatIndex: dense + sparse, hybrid RRF), serialised to the object store under a key
 * of its own, loaded on demand into a bounded LRU cache (sized in bytes) and evicted when cold.
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
const MAX_TEXT_CHARS = 20_000;
const MAX_QUERY_CHARS = 1_000;
/**
 * Most hits one search returns: a client page of at most 100 (the API's page bound) plus the one
 * extra hit a caller fetches to learn whether there is a next page. At 100, `first: 100` was refused.
 */
export const MAX_PRIVATE_SEARCH_LIMIT = 101;

export class PrivateIndexService {
  private readonly cache: LRUCache<string, FlatIndex>;
  private readonly loading = new Map<string, Promise<FlatIndex>>();
  /** Per-user write chains: load-modify-store of one user never interleaves. */
  private readonly writes = new Map<string, Promise<unknown>>();

  constructor(private readonly options: PrivateIndexOptions) {
    this.cache = new LRUCache<string, FlatIndex>({
      maxSize: options.maxCacheBytes,
      sizeCalculation: (index) => Math.max(1, index.byteSize),
      // One user's index larger than the whole budget is served uncached rather than thrashing.
      maxEntrySize: options.maxCacheBytes,
    });
  }

  static objectKey(userId: string): string {
    return `private-index/v1/${userId}.flat`;
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
    await this.write(userId, async (index) => {
      const fresh = items.filter((item) => !index.has(item.id)).length;
      if (index.size + fresh > (this.options.maxItemsPerUser ?? 20_000)) throw new FolioError('BAD_USER_INPUT', 'too many items in one private index');
      index.upsert(
        items.map((item, i) => ({
          id: item.id,
          dense: dense[i]!,
          sparse: toSparse(tokenize(item.text)),
          payload: { ...item.payload, kind: item.kind, bookId: item.bookId, text: item.text },
        })),
      );
    });
  }

  async remove(userId: string, ids: readonly string[]): Promise<void> {
    checkUser(userId);
    await this.write(userId, async (index) => {
      index.deleteIds(ids);
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
    const index = await this.load(userId);
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
      this.cache.delete(userId);
      await this.options.store.delete(PrivateIndexService.objectKey(userId));
    });
  }

  get cacheStats(): { users: number; bytes: number } {
    return { users: this.cache.size, bytes: this.cache.calculatedSize };
  }

  // ---------------------------------------------------------------------------------------------

  private write(userId: string, change: (index: FlatIndex) => Promise<void>): Promise<void> {
    return this.chain(userId, async () => {
      const index = await this.load(userId);
      await change(index);
      await this.options.store.put(PrivateIndexService.objectKey(userId), index.serialize());
      // Re-set so the cache re-measures its size after the change.
      this.cache.set(userId, index);
    });
  }

  private chain<T>(userId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.writes.get(userId) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.catch(() => undefined);
    this.writes.set(userId, tail);
    void tail.then(() => this.writes.get(userId) === tail && this.writes.delete(userId));
    return run;
  }

  private load(userId: string): Promise<FlatIndex> {
    const cached = this.cache.get(userId);
    if (cached) return Promise.resolve(cached);
    let pending = this.loading.get(userId);
    if (!pending) {
      pending = this.fetch(userId).finally(() => this.loading.delete(userId));
      this.loading.set(userId, pending);
    }
    return pending;
  }

  private async fetch(userId: string): Promise<FlatIndex> {
    const { embedder, store } = this.options;
    const bytes = await store.get(PrivateIndexService.objectKey(userId));
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
    index ??= new FlatIndex(embedder.id, embedder.dimension);
    this.cache.set(userId, index);
    return index;
  }
}

function checkUser(userId: string): void {
  if (typeof userId !== 'string' || !USER_ID.test(userId)) throw new FolioError('BAD_USER_INPUT', 'invalid user id');
}
