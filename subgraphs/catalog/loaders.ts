/**
 * Per-request DataLoaders: every book, revision, chapter and table-of-contents lookup in one
 * request is one batched query per kind (a shelf of 100 books is one `books` query).
 * Every lookup also tags the response with the book it read (lib/cacheTags.ts): reads go through
 * here, so whatever a resolver does with the result, a cached answer holding it can be purged.
 */
import DataLoader from 'dataloader';
import { bookTag, type ResponseTags } from '../../lib/cacheTags.js';
import type { CatalogService } from './service.js';
import type { BookDoc, ChapterDoc, ChapterSummary, RevisionDoc } from './store.js';

export interface CatalogLoaders {
  readonly book: DataLoader<string, BookDoc | null>;
  readonly revision: DataLoader<string, RevisionDoc | null>;
  readonly chapter: DataLoader<string, ChapterDoc | null>;
  /** Chapters of a revision without text, in order. */
  readonly toc: DataLoader<string, ChapterSummary[]>;
}

/** Tags the response with these books; a licence end caps how long it may be cached. */
export function tagBooks(tags: ResponseTags | undefined, books: Iterable<Pick<BookDoc, '_id' | 'license'>>): void {
  if (!tags) return;
  for (const book of books) {
    tags.add(bookTag(book._id));
    tags.notAfter(book.license?.endsAt);
  }
}

function byId<V>(fetch: (ids: readonly string[]) => Promise<Map<string, V>>, tag: (ids: readonly string[], found: Map<string, V>) => void): DataLoader<string, V | null> {
  return new DataLoader(
    async (ids) => {
      const found = await fetch(ids);
      tag(ids, found);
      return ids.map((id) => found.get(id) ?? null);
    },
    { maxBatchSize: 1_000 },
  );
}

export function createLoaders(service: CatalogService, tags?: ResponseTags): CatalogLoaders {
  const tagOwners = (docs: Iterable<{ bookId: string }>): void => {
    for (const doc of docs) tags?.add(bookTag(doc.bookId));
  };
  return {
    // Asked-for ids too: a book that is not there (yet) is still the subject of the answer.
    book: byId((ids) => service.booksByIds(ids), (ids, found) => {
      tags?.add(...ids.map(bookTag));
      tagBooks(tags, found.values());
    }),
    revision: byId((ids) => service.revisionsByIds(ids), (_, found) => tagOwners(found.values())),
    chapter: byId((ids) => service.chaptersByIds(ids), (_, found) => tagOwners(found.values())),
    toc: new DataLoader(
      async (ids) => {
        const found = await service.tocsByRevisionIds(ids);
        for (const chapters of found.values()) tagOwners(chapters);
        return ids.map((id) => found.get(id) ?? []);
      },
      { maxBatchSize: 200 },
    ),
  };
}
