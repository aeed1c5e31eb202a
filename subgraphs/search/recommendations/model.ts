/**
 * The stored data as rank.ts reads it: an in-memory copy of the published books (vectors
 * included: a few KB each, so brute-force cosine over thousands of books takes milliseconds) and
 * of popularity, refreshed incrementally by `updatedAt` at most every REFRESH_MS, and co-reading
 * neighbours per book from `rec_pairs`, cached briefly. Every instance reads the same database,
 * so an instance that does not follow the feeds still sees changes within the refresh window.
 */
import { LRUCache } from 'lru-cache';
import type { CandidateBook, Neighbour, RecSource } from './rank.js';
import { unit } from './scoring.js';
import type { RecommendationStore } from './store.js';

/** How stale the in-memory books and popularity may be. */
export const REFRESH_MS = 2_000;
/** How long one book's co-reading neighbours are reused. */
export const NEIGHBOUR_TTL_MS = 10_000;
/** Neighbours read per book (the strongest ones). */
export const NEIGHBOURS_PER_BOOK = 100;

export class StoredRecSource implements RecSource {
  private readonly published = new Map<string, CandidateBook>();
  private readonly popular = new Map<string, number>();
  private booksSeen = new Date(0);
  private popularitySeen = new Date(0);
  private lastRefresh = 0;
  private refreshing: Promise<void> | null = null;
  private readonly neighbourCache: LRUCache<string, readonly Neighbour[]>;

  constructor(
    private readonly store: RecommendationStore,
    readonly k: number,
    readonly dimension: number,
    private readonly embedderId: string,
  ) {
    this.neighbourCache = new LRUCache({ max: 20_000, ttl: NEIGHBOUR_TTL_MS });
  }

  books(): ReadonlyMap<string, CandidateBook> {
    return this.published;
  }

  readers(bookId: string): number {
    return this.popular.get(bookId) ?? 0;
  }

  async neighbours(bookId: string): Promise<readonly Neighbour[]> {
    const cached = this.neighbourCache.get(bookId);
    if (cached) return cached;
    const docs = await this.store.pairs
      .find({ a: bookId, count: { $gte: this.k } })
      .sort({ count: -1 })
      .limit(NEIGHBOURS_PER_BOOK)
      .toArray();
    const list = docs.map((d) => ({ bookId: d.b, together: d.count }));
    this.neighbourCache.set(bookId, list);
    return list;
  }

  /** Brings books and popularity up to date when they are older than REFRESH_MS (one refresh at a time). */
  async fresh(): Promise<this> {
    if (Date.now() - this.lastRefresh < REFRESH_MS) return this;
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = null;
    });
    await this.refreshing;
    return this;
  }

  /** Forgets what this process changed, so its own next request reads it (the feed calls this). */
  invalidate(bookIds: readonly string[] = []): void {
    this.lastRefresh = 0;
    for (const id of bookIds) this.neighbourCache.delete(id);
  }

  private async refresh(): Promise<void> {
    const started = Date.now();
    // `$gte`: a write in the same millisecond as the last one seen is read again (idempotent).
    const [books, popularity] = await Promise.all([
      this.store.books.find({ updatedAt: { $gte: this.booksSeen } }).toArray(),
      this.store.popularity.find({ updatedAt: { $gte: this.popularitySeen } }).toArray(),
    ]);
    for (const doc of books) {
      if (doc.updatedAt > this.booksSeen) this.booksSeen = doc.updatedAt;
      if (doc.state !== 'PUBLISHED') {
        this.published.delete(doc._id);
        continue;
      }
      this.published.set(doc._id, {
        id: doc._id,
        title: doc.title,
        authors: doc.authors,
        language: doc.language,
        publishedAt: doc.publishedAt.getTime(),
        vector: doc.vector && doc.embedderId === this.embedderId ? unit(doc.vector) : null,
      });
    }
    for (const doc of popularity) {
      if (doc.updatedAt > this.popularitySeen) this.popularitySeen = doc.updatedAt;
      this.popular.set(doc._id, doc.readers);
    }
    this.lastRefresh = started;
  }
}
