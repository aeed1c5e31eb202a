/**
 * Keeps recommendations' derived data from catalog's and ugc's feeds. Every handler compares the
 * event with what is stored and changes only the difference, inside one transaction, so a
 * redelivered event (after a crash) changes nothing.
 *
 * Privacy: a (reader, book) pair counts towards co-reading (`rec_pairs`, `rec_popularity`) only
 * while the book is on the reader's shelf and not secret. Marking an entry secret, removing it,
 * reading time and highlights never add to anyone else's data; they only weight the reader's own
 * recommendations.
 */
import { z } from 'zod';
import type { FolioEvent } from '../../../lib/events.js';
import type { Logger } from '../../../lib/logger.js';
import type { FolioDb } from '../../../lib/storage/index.js';
import type { PreparedRevision } from '../indexer.js';
import type { Embedder } from '../ports.js';
import { recCollectionsOf, recKey, type RecommendationStore, type RecReaderBookDoc } from './store.js';

/** Passages embedded per book for its book-level vector, spread evenly over the book. */
export const BOOK_VECTOR_SAMPLE = 48;
/** Reading days kept one by one per (reader, book); older ones are summed. */
const MAX_DAYS = 90;

const id = z.string().min(1).max(200);
const isoDate = z.string().max(50).nullable().optional();
const bookEvent = z.object({ bookId: id, revisionId: id.optional() });
const shelfChanged = z.object({ userId: id, bookId: id, secret: z.boolean(), finished: z.boolean(), finishedAt: isoDate, addedAt: isoDate });
const shelfRemoved = z.object({ userId: id, bookId: id });
const readingTime = z.object({ userId: id, bookId: id, day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), seconds: z.number().int().min(0).max(86_400) });
const highlightCreated = z.object({ highlightId: id, userId: id, bookId: id });
const highlightDeleted = z.object({ highlightId: id, userId: id });

const date = (iso: string | null | undefined): Date | null => {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
};

/** Mean of passage embeddings, L2-normalised (null for a book without text). */
export async function bookVector(embedder: Embedder, texts: readonly string[], signal?: AbortSignal): Promise<number[] | null> {
  const picked: string[] = [];
  const step = texts.length / Math.min(BOOK_VECTOR_SAMPLE, texts.length || 1);
  for (let i = 0; picked.length < BOOK_VECTOR_SAMPLE && Math.floor(i) < texts.length; i += step) picked.push(texts[Math.floor(i)]!);
  const nonEmpty = picked.filter((t) => t.trim().length > 0);
  if (nonEmpty.length === 0) return null;
  const vectors = await embedder.embed(nonEmpty, signal);
  const mean = new Float64Array(embedder.dimension);
  for (const v of vectors) for (let i = 0; i < mean.length; i++) mean[i]! += v[i]!;
  const norm = Math.sqrt(mean.reduce((s, x) => s + x * x, 0));
  return norm === 0 ? null : Array.from(mean, (x) => x / norm);
}

const blankReader = (userId: string, bookId: string, now: Date): RecReaderBookDoc => ({
  _id: recKey(userId, bookId),
  userId,
  bookId,
  onShelf: false,
  secret: false,
  finished: false,
  finishedAt: null,
  addedAt: null,
  days: {},
  olderSeconds: 0,
  highlights: 0,
  updatedAt: now,
});

/** Counts towards others' co-reading: on the shelf and not secret. */
export const isPublicReading = (doc: Pick<RecReaderBookDoc, 'onShelf' | 'secret'> | null | undefined): boolean => !!doc && doc.onShelf && !doc.secret;

const hasPersonalSignal = (doc: RecReaderBookDoc): boolean => doc.onShelf || doc.highlights > 0 || doc.olderSeconds > 0 || Object.keys(doc.days).length > 0;

export interface RecommendationFeedOptions {
  readonly store: RecommendationStore;
  readonly embedder: Embedder;
  readonly loadRevision: (revisionId: string, signal?: AbortSignal) => Promise<PreparedRevision>;
  readonly logger: Logger;
  /** Told which books' co-reading or metadata changed (the in-process source drops its caches). */
  readonly onChange?: (bookIds: readonly string[]) => void;
  /** Told that who may read a book may have changed: licence, publish, unpublish (the service drops catalog's answers). */
  readonly onAccessChange?: (bookId: string) => void;
  /** Told that a reader's own data changed (the service drops their ranked list). */
  readonly onReaderChange?: (userId: string) => void;
  readonly now?: () => Date;
}

export class RecommendationFeed {
  constructor(private readonly options: RecommendationFeedOptions) {}

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /**
   * Catalog's feed: a book's vector and metadata on publish or new content; gone on unpublish; a
   * licence change only means catalog's readable answers about the book are out of date.
   */
  async handleCatalogEvent(event: FolioEvent): Promise<void> {
    if (!['BookPublished', 'BookContentReplaced', 'BookUnpublished', 'BookLicenseChanged'].includes(event.type)) return;
    const parsed = bookEvent.safeParse(event.payload);
    if (!parsed.success) return this.skip(event);
    const { bookId, revisionId } = parsed.data;
    this.options.onAccessChange?.(bookId);
    if (event.type === 'BookLicenseChanged') return;
    const { books } = this.options.store;
    const now = this.now();
    if (event.type === 'BookUnpublished') {
      await books.updateOne({ _id: bookId }, { $set: { state: 'REMOVED', updatedAt: now } });
    } else {
      if (!revisionId) return this.skip(event);
      const existing = await books.findOne({ _id: bookId });
      if (existing?.state === 'PUBLISHED' && existing.revisionId === revisionId && existing.embedderId === this.options.embedder.id) return;
      const { content, chunks } = await this.options.loadRevision(revisionId);
      const vector = await bookVector(this.options.embedder, chunks.map((c) => c.chunk.text));
      const publishedAt = existing?.publishedAt ?? date(event.createdAt) ?? now;
      await books.updateOne(
        { _id: bookId },
        {
          $set: {
            state: 'PUBLISHED',
            revisionId,
            title: content.title,
            authors: content.authors,
            language: content.language,
            publishedAt,
            vector,
            embedderId: this.options.embedder.id,
            updatedAt: now,
          },
        },
        { upsert: true },
      );
    }
    this.options.onChange?.([bookId]);
  }

  /** ugc's feed: shelf entries, reading time and highlights. */
  async handleUgcEvent(event: FolioEvent): Promise<void> {
    switch (event.type) {
      case 'ShelfEntryChanged': {
        const parsed = shelfChanged.safeParse(event.payload);
        if (!parsed.success) return this.skip(event);
        const e = parsed.data;
        return this.changeReader(e.userId, e.bookId, (doc) => ({
          ...doc,
          onShelf: true,
          secret: e.secret,
          finished: e.finished,
          finishedAt: date(e.finishedAt),
          addedAt: date(e.addedAt) ?? doc.addedAt,
        }));
      }
      case 'ShelfEntryRemoved': {
        const parsed = shelfRemoved.safeParse(event.payload);
        if (!parsed.success) return this.skip(event);
        return this.changeReader(parsed.data.userId, parsed.data.bookId, (doc) => ({ ...doc, onShelf: false, secret: false, finished: false, finishedAt: null, addedAt: null }));
      }
      case 'ReadingTimeAdded': {
        const parsed = readingTime.safeParse(event.payload);
        if (!parsed.success) return this.skip(event);
        const e = parsed.data;
        return this.changeReader(e.userId, e.bookId, (doc) => {
          // The event carries the day's total: setting it (never adding) makes redelivery harmless.
          const days = { ...doc.days, [e.day]: Math.max(doc.days[e.day] ?? 0, e.seconds) };
          let olderSeconds = doc.olderSeconds;
          const sorted = Object.keys(days).sort();
          while (sorted.length > MAX_DAYS) {
            const oldest = sorted.shift()!;
            olderSeconds += days[oldest]!;
            delete days[oldest];
          }
          return { ...doc, days, olderSeconds };
        });
      }
      case 'HighlightCreated': {
        const parsed = highlightCreated.safeParse(event.payload);
        if (!parsed.success) return this.skip(event);
        const { highlightId, userId, bookId } = parsed.data;
        return this.options.store.db.transaction(async (tx) => {
          const c = recCollectionsOf(tx);
          const inserted = await c.highlights.updateOne({ _id: highlightId }, { $setOnInsert: { userId, bookId } }, { upsert: true });
          if (inserted.upsertedCount !== 1) return;
          await this.changeReaderIn(tx, userId, bookId, (doc) => ({ ...doc, highlights: doc.highlights + 1 }));
        }).then(() => this.options.onReaderChange?.(userId));
      }
      case 'HighlightDeleted': {
        const parsed = highlightDeleted.safeParse(event.payload);
        if (!parsed.success) return this.skip(event);
        return this.options.store.db.transaction(async (tx) => {
          const c = recCollectionsOf(tx);
          const gone = await c.highlights.findOneAndDelete({ _id: parsed.data.highlightId, userId: parsed.data.userId });
          if (!gone) return;
          await this.changeReaderIn(tx, gone.userId, gone.bookId, (doc) => ({ ...doc, highlights: Math.max(0, doc.highlights - 1) }));
        }).then(() => this.options.onReaderChange?.(parsed.data.userId));
      }
      default:
        return;
    }
  }

  private async changeReader(userId: string, bookId: string, change: (doc: RecReaderBookDoc) => RecReaderBookDoc): Promise<void> {
    const touched = await this.options.store.db.transaction((tx) => this.changeReaderIn(tx, userId, bookId, change));
    this.options.onReaderChange?.(userId);
    if (touched.length > 0) this.options.onChange?.(touched);
  }

  /**
   * Applies a change to one (reader, book) document and, when that flips whether the pair counts
   * for co-reading, moves the book's popularity and its pair counts with each of the reader's
   * other public books by ±1. Returns the books whose co-reading changed.
   */
  private async changeReaderIn(tx: FolioDb, userId: string, bookId: string, change: (doc: RecReaderBookDoc) => RecReaderBookDoc): Promise<string[]> {
    const c = recCollectionsOf(tx);
    const now = this.now();
    const before = await c.readerBooks.findOne({ _id: recKey(userId, bookId) });
    const after = { ...change(before ?? blankReader(userId, bookId, now)), updatedAt: now };
    if (hasPersonalSignal(after)) {
      const { _id, ...fields } = after;
      await c.readerBooks.updateOne({ _id }, { $set: fields }, { upsert: true });
    } else if (before) {
      await c.readerBooks.deleteOne({ _id: before._id });
    }
    const delta = Number(isPublicReading(after)) - Number(isPublicReading(before));
    if (delta === 0) return [];
    const others = await c.readerBooks.find({ userId, onShelf: true, secret: false, bookId: { $ne: bookId } }).project<{ bookId: string }>({ bookId: 1 }).toArray();
    await c.popularity.updateOne({ _id: bookId }, { $inc: { readers: delta }, $set: { updatedAt: now } }, { upsert: true });
    if (others.length > 0) {
      await c.pairs.bulkWrite(
        others.flatMap(({ bookId: other }) => [
          { updateOne: { filter: { _id: recKey(bookId, other) }, update: { $inc: { count: delta }, $setOnInsert: { a: bookId, b: other } }, upsert: true } },
          { updateOne: { filter: { _id: recKey(other, bookId) }, update: { $inc: { count: delta }, $setOnInsert: { a: other, b: bookId } }, upsert: true } },
        ]),
        { ordered: false },
      );
    }
    return [bookId, ...others.map((o) => o.bookId)];
  }

  private skip(event: FolioEvent): void {
    this.options.logger.warn({ seq: event.seq, type: event.type }, 'ignoring a malformed event for recommendations');
  }
}
