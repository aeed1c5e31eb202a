/**
 * The search database (`folio_search`): what search indexed, never catalog's data. Event cursors
 * and leases live here too (lib/events.ts, lib/leases.ts name their own collections).
 */
import type { FolioDb } from '../../lib/storage/index.js';
import type { DocCollection } from '../../lib/storage/types.js';

export const BOOK_INDEX_STATES = ['PENDING', 'INDEXING', 'INDEXED', 'FAILED', 'REMOVED'] as const;
export type BookIndexState = (typeof BOOK_INDEX_STATES)[number];

/** Per-book indexing status and progress; also the metadata the title/author index is built from. */
export interface BookIndexDoc {
  /** The book id. */
  _id: string;
  state: BookIndexState;
  /** The revision whose points are (being) indexed; null once removed. */
  revisionId: string | null;
  title: string;
  authors: string[];
  language: string;
  /** Chunks of the revision, known after it was fetched and chunked. */
  chunksTotal: number;
  /** Chunks embedded and upserted so far (indexing resumes from here). */
  chunksIndexed: number;
  error: string | null;
  updatedAt: Date;
}

export interface SearchStore {
  readonly db: FolioDb;
  readonly books: DocCollection<BookIndexDoc>;
}

export async function openSearchStore(db: FolioDb): Promise<SearchStore> {
  const store: SearchStore = { db, books: db.collection<BookIndexDoc>('book_index') };
  await store.books.createIndexes([{ key: { state: 1 } }]);
  return store;
}
