/**
 * Per-request DataLoaders: every book, revision, chapter and table-of-contents lookup in one
 * request is one batched query per kind (a shelf of 100 books is one `books` query).
 */
import DataLoader from 'dataloader';
import type { CatalogService } from './service.js';
import type { BookDoc, ChapterDoc, ChapterSummary, RevisionDoc } from './store.js';

export interface CatalogLoaders {
  readonly book: DataLoader<string, BookDoc | null>;
  readonly revision: DataLoader<string, RevisionDoc | null>;
  readonly chapter: DataLoader<string, ChapterDoc | null>;
  /** Chapters of a revision without text, in order. */
  readonly toc: DataLoader<string, ChapterSummary[]>;
}

function byId<V>(fetch: (ids: readonly string[]) => Promise<Map<string, V>>): DataLoader<string, V | null> {
  return new DataLoader(
    async (ids) => {
      const found = await fetch(ids);
      return ids.map((id) => found.get(id) ?? null);
    },
    { maxBatchSize: 1_000 },
  );
}

export function createLoaders(service: CatalogService): CatalogLoaders {
  return {
    book: byId((ids) => service.booksByIds(ids)),
    revision: byId((ids) => service.revisionsByIds(ids)),
    chapter: byId((ids) => service.chaptersByIds(ids)),
    toc: new DataLoader(
      async (ids) => {
        const found = await service.tocsByRevisionIds(ids);
        return ids.map((id) => found.get(id) ?? []);
      },
      { maxBatchSize: 200 },
    ),
  };
}
