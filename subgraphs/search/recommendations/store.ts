/**
 * Recommendations' collections in the search database (`folio_search`). All of it is derived
 * from catalog's and ugc's feeds, so `npm run reindex` can drop and rebuild it; only the reader's
 * own choices (dismissals, the personalisation switch) are written by requests and kept.
 */
import type { FolioDb } from '../../../lib/storage/index.js';
import type { DocCollection } from '../../../lib/storage/types.js';

/** One published book as recommendations see it: metadata and its book-level content vector. */
export interface RecBookDoc {
  /** The book id. */
  _id: string;
  state: 'PUBLISHED' | 'REMOVED';
  revisionId: string | null;
  title: string;
  authors: string[];
  language: string;
  /** When catalog first published it (the BookPublished event's time). */
  publishedAt: Date;
  /** Mean of the embeddings of (a sample of) its passages, L2-normalised; null when it had no text. */
  vector: number[] | null;
  /** Which embedder made `vector` (a new embedder means new vectors, never mixed ones). */
  embedderId: string | null;
  updatedAt: Date;
}

/**
 * What one reader did with one book, `_id` `<userId>|<bookId>`: the reader's own profile. Only
 * entries with `onShelf && !secret` ever count towards co-reading aggregates (others' data).
 */
export interface RecReaderBookDoc {
  _id: string;
  userId: string;
  bookId: string;
  onShelf: boolean;
  secret: boolean;
  finished: boolean;
  finishedAt: Date | null;
  addedAt: Date | null;
  /** Seconds read per UTC day (the newest days; older ones folded into `olderSeconds`). */
  days: Record<string, number>;
  olderSeconds: number;
  /** The reader's highlights in this book. */
  highlights: number;
  updatedAt: Date;
}

/** One highlight seen on ugc's feed, so a redelivered HighlightCreated/Deleted counts once. */
export interface RecHighlightDoc {
  _id: string;
  userId: string;
  bookId: string;
}

/** Readers who have both books on a non-secret shelf entry; stored both ways (`<a>|<b>` and `<b>|<a>`). */
export interface RecPairDoc {
  _id: string;
  a: string;
  b: string;
  count: number;
}

/** Readers with the book on a non-secret shelf entry (co-reading's denominator and popularity). */
export interface RecPopularityDoc {
  _id: string;
  readers: number;
  updatedAt: Date;
}

/** "Not for me": `<userId>|<bookId>`. */
export interface RecDismissedDoc {
  _id: string;
  userId: string;
  bookId: string;
  at: Date;
}

export interface RecSettingsDoc {
  /** The user id. */
  _id: string;
  personalised: boolean;
  updatedAt: Date;
}

export interface RecommendationStore {
  readonly db: FolioDb;
  readonly books: DocCollection<RecBookDoc>;
  readonly readerBooks: DocCollection<RecReaderBookDoc>;
  readonly highlights: DocCollection<RecHighlightDoc>;
  readonly pairs: DocCollection<RecPairDoc>;
  readonly popularity: DocCollection<RecPopularityDoc>;
  readonly dismissed: DocCollection<RecDismissedDoc>;
  readonly settings: DocCollection<RecSettingsDoc>;
}

export const recKey = (...parts: string[]): string => parts.join('|');

export function recCollectionsOf(db: FolioDb): RecommendationStore {
  return {
    db,
    books: db.collection<RecBookDoc>('rec_books'),
    readerBooks: db.collection<RecReaderBookDoc>('rec_reader_books'),
    highlights: db.collection<RecHighlightDoc>('rec_highlights'),
    pairs: db.collection<RecPairDoc>('rec_pairs'),
    popularity: db.collection<RecPopularityDoc>('rec_popularity'),
    dismissed: db.collection<RecDismissedDoc>('rec_dismissed'),
    settings: db.collection<RecSettingsDoc>('rec_settings'),
  };
}

export async function openRecommendationStore(db: FolioDb): Promise<RecommendationStore> {
  const store = recCollectionsOf(db);
  await Promise.all([
    store.books.createIndex({ updatedAt: 1 }, { name: 'rec_books_by_updated' }),
    store.readerBooks.createIndex({ userId: 1, bookId: 1 }, { name: 'rec_reader_books_by_user' }),
    // A cached list's check for the reader's newer documents (service.ts sameReaderBooks).
    store.readerBooks.createIndex({ userId: 1, updatedAt: 1 }, { name: 'rec_reader_books_by_user_updated' }),
    store.pairs.createIndex({ a: 1, count: -1 }, { name: 'rec_pairs_by_book' }),
    store.popularity.createIndex({ updatedAt: 1 }, { name: 'rec_popularity_by_updated' }),
    store.dismissed.createIndex({ userId: 1 }, { name: 'rec_dismissed_by_user' }),
  ]);
  return store;
}
