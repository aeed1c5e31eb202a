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
  /** Books already read (a page of `books`): later lookups of them in this request are answered from these. */
  primeBooks(books: readonly BookDoc[]): void;
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

/**
 * Each loader is made when a resolver first asks for it: most requests use one kind or none (a
 * `books` page primes books it may never look up), and four loaders with their closures per
 * request were allocation every request paid (issue 14).
 */
class LazyCatalogLoaders implements CatalogLoaders {
  private bookLoader: DataLoader<string, BookDoc | null> | undefined;
  private revisionLoader: DataLoader<string, RevisionDoc | null> | undefined;
  private chapterLoader: DataLoader<string, ChapterDoc | null> | undefined;
  private tocLoader: DataLoader<string, ChapterSummary[]> | undefined;
  private primed: BookDoc[] | undefined;

  constructor(
    private readonly service: CatalogService,
    private readonly tags: ResponseTags | undefined,
  ) {}

  get book(): DataLoader<string, BookDoc | null> {
    if (!this.bookLoader) {
      const tags = this.tags;
      // Asked-for ids too: a book that is not there (yet) is still the subject of the answer.
      this.bookLoader = byId((ids) => this.service.booksByIds(ids), (ids, found) => {
        tags?.add(...ids.map(bookTag));
        tagBooks(tags, found.values());
      });
      for (const book of this.primed ?? []) this.bookLoader.prime(book._id, book);
      this.primed = undefined;
    }
    return this.bookLoader;
  }

  get revision(): DataLoader<string, RevisionDoc | null> {
    return (this.revisionLoader ??= byId((ids) => this.service.revisionsByIds(ids), (_, found) => tagOwners(this.tags, found.values())));
  }

  get chapter(): DataLoader<string, ChapterDoc | null> {
    return (this.chapterLoader ??= byId((ids) => this.service.chaptersByIds(ids), (_, found) => tagOwners(this.tags, found.values())));
  }

  get toc(): DataLoader<string, ChapterSummary[]> {
    return (this.tocLoader ??= new DataLoader(
      async (ids) => {
        const found = await this.service.tocsByRevisionIds(ids);
        for (const chapters of found.values()) tagOwners(this.tags, chapters);
        return ids.map((id) => found.get(id) ?? []);
      },
      { maxBatchSize: 200 },
    ));
  }

  primeBooks(books: readonly BookDoc[]): void {
    if (this.bookLoader) for (const book of books) this.bookLoader.prime(book._id, book);
    else (this.primed ??= []).push(...books);
  }
}

function tagOwners(tags: ResponseTags | undefined, docs: Iterable<{ bookId: string }>): void {
  if (!tags) return;
  for (const doc of docs) tags.add(bookTag(doc.bookId));
}

export function createLoaders(service: CatalogService, tags?: ResponseTags): CatalogLoaders {
  return new LazyCatalogLoaders(service, tags);
}
