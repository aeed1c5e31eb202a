/**
 * Keeps the paragraph index in step with catalog's events. Per book: fetch the revision's
 * chapters, chunk, embed, upsert points (dense + sparse + payload), then drop the points of any
 * other revision; an unpublished book loses all of its points. Point ids are deterministic
 * (revision, chapter, chunk number), so redelivered events and resumed jobs overwrite rather
 * than duplicate, and progress in `book_index` tells a resumed job where to continue.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { FolioEvent } from '../../lib/events.js';
import type { Logger } from '../../lib/logger.js';
import type { PayloadFilter, VectorPoint, VectorStore } from '../../lib/vectors/index.js';
import type { CatalogClient, RevisionContent } from './catalogClient.js';
import type { Chunk, Chunker, Embedder, SparseEncoder } from './ports.js';
import type { BookIndexDoc, SearchStore } from './store.js';

/** How often a long book's indexing records a durable resume point. */
const CHECKPOINT_INTERVAL_MS = 30_000;
/**
 * A checkpoint is a flush, which on the embedded store appends to the collection's log but now
 * and then rewrites the whole collection (once the log has grown), so its cost can grow with the
 * index: the next one waits at least this many times as long as the last took, which keeps
 * checkpoints under ~1/CHECKPOINT_SPACING of indexing time however large the book (fixed 30 s made
 * total flush time grow with the square of the book).
 */
const CHECKPOINT_SPACING = 10;

/** Payload keys filters use (both vector backends index them). */
export const PARAGRAPH_PAYLOAD_INDEXES = ['bookId', 'revision', 'lang', 'authors', 'paragraphIds'] as const;

/** Chunks embedded per call: large enough to amortise an HTTP embedder, small enough to report progress. */
const EMBED_BATCH = 64;

/** The payload of one paragraph point. `text` is kept so snippets and answers need no catalog call. */
export interface ParagraphPayload {
  bookId: string;
  chapterId: string;
  revision: string;
  paragraphIds: string[];
  /** Where each covered paragraph begins within `text` (parallel to paragraphIds). */
  paragraphStarts: number[];
  /** Chapter offsets of the passage. */
  startOffset: number;
  endOffset: number;
  language: string;
  /** Primary language subtag ("zh" for zh-CN): what the language filter matches. */
  lang: string;
  authors: string[];
  text: string;
}

export const primaryLanguage = (language: string): string => language.trim().toLowerCase().split(/[-_]/)[0] || 'und';

const bookEvent = z.object({ bookId: z.string().min(1).max(200) });
const revisionEvent = bookEvent.extend({ revisionId: z.string().min(1).max(200) });

export interface IndexProgress {
  readonly bookId: string;
  readonly chunksIndexed: number;
  readonly chunksTotal: number;
}

export interface BookIndexerOptions {
  readonly store: SearchStore;
  readonly vectors: VectorStore;
  readonly collection: string;
  readonly catalog: CatalogClient;
  readonly embedder: Embedder;
  readonly sparse: SparseEncoder;
  readonly chunker: Chunker;
  readonly logger: Logger;
  /** Called when a book's searchable metadata changed (title/author index). */
  readonly onBookChanged?: (doc: BookIndexDoc) => void;
  readonly onProgress?: (progress: IndexProgress) => void;
  /**
   * Fetches and chunks a revision somewhere other than the event loop (a 100,000-paragraph book is
   * tens of MB of JSON to parse and chunk); by default both happen here, through `catalog`.
   */
  readonly loadRevision?: (revisionId: string, signal?: AbortSignal) => Promise<PreparedRevision>;
}

/** A revision ready to embed: its book's metadata and every chunk, in reading order. */
export interface PreparedRevision {
  readonly content: Omit<RevisionContent, 'chapters'>;
  readonly chunks: ReadonlyArray<{ chapterId: string; n: number; chunk: Chunk }>;
}

/** Every chunk of a revision, chapter by chapter in reading order (point ids follow from the positions). */
export function chunkRevision(content: RevisionContent, chunker: Chunker): Array<{ chapterId: string; n: number; chunk: Chunk }> {
  const out: Array<{ chapterId: string; n: number; chunk: Chunk }> = [];
  for (const chapter of [...content.chapters].sort((a, b) => a.index - b.index)) {
    chunker.chunk(chapter).forEach((chunk, n) => out.push({ chapterId: chapter.id, n, chunk }));
  }
  return out;
}

export function pointId(revisionId: string, chapterId: string, n: number): string {
  const id = `${revisionId}:${chapterId}:${n}`;
  // Ids are bounded by the vector seam (256 chars); long catalog ids are hashed instead.
  return id.length <= 200 ? id : `h:${createHash('sha256').update(id).digest('base64url')}`;
}

export class BookIndexer {
  constructor(private readonly options: BookIndexerOptions) {}

  /** The catalog feed handler: idempotent, as EventConsumer requires. */
  async handleEvent(event: FolioEvent, signal?: AbortSignal): Promise<void> {
    switch (event.type) {
      case 'BookPublished':
      case 'BookContentReplaced': {
        const parsed = revisionEvent.safeParse(event.payload);
        if (!parsed.success) return this.skip(event);
        await this.indexRevision(parsed.data.bookId, parsed.data.revisionId, signal);
        return;
      }
      case 'BookUnpublished': {
        const parsed = bookEvent.safeParse(event.payload);
        if (!parsed.success) return this.skip(event);
        await this.removeBook(parsed.data.bookId);
        return;
      }
      default:
        // BookLicenseChanged and anything newer: readability is checked per request, nothing to index.
        return;
    }
  }

  private skip(event: FolioEvent): void {
    this.options.logger.warn({ seq: event.seq, type: event.type }, 'ignoring a malformed catalog event');
  }

  /** Indexes one revision of a book, resuming where an interrupted run stopped; replaces other revisions' points. */
  async indexRevision(bookId: string, revisionId: string, signal?: AbortSignal): Promise<BookIndexDoc> {
    const { store, logger } = this.options;
    const existing = await store.books.findOne({ _id: bookId });
    if (existing?.state === 'INDEXED' && existing.revisionId === revisionId) return existing;
    const resumeFrom = existing?.revisionId === revisionId && existing.state === 'INDEXING' ? existing.chunksIndexed : 0;
    const { content, chunks } = await this.loadRevision(revisionId, signal);
    if (content.bookId !== bookId) throw new Error(`revision ${revisionId} belongs to book ${content.bookId}, not ${bookId}`);
    await this.save(bookId, {
      state: 'INDEXING',
      revisionId,
      title: content.title,
      authors: content.authors,
      language: content.language,
      chunksTotal: chunks.length,
      chunksIndexed: resumeFrom,
      error: null,
    });
    let checkpointAt = Date.now();
    let checkpointGapMs = CHECKPOINT_INTERVAL_MS;
    for (let start = resumeFrom; start < chunks.length; start += EMBED_BATCH) {
      signal?.throwIfAborted();
      const batch = chunks.slice(start, start + EMBED_BATCH);
      await this.upsertChunks(content, batch, signal);
      const done = start + batch.length;
      this.options.onProgress?.({ bookId, chunksIndexed: done, chunksTotal: chunks.length });
      // A resume point may only name points that are durable, and the embedded store persists at
      // flush: so checkpoint long books now and then, not per batch.
      // A crash between checkpoints re-indexes from the last one; upserts are idempotent.
      if (done < chunks.length && Date.now() - checkpointAt >= checkpointGapMs) {
        const flushStart = Date.now();
        await this.options.vectors.flush();
        await store.books.updateOne({ _id: bookId, revisionId }, { $set: { chunksIndexed: done, updatedAt: new Date() } });
        checkpointAt = Date.now();
        checkpointGapMs = Math.max(CHECKPOINT_INTERVAL_MS, (checkpointAt - flushStart) * CHECKPOINT_SPACING);
      }
    }
    // The new revision is complete: only now do the old revision's points go, so search never goes blank.
    await this.options.vectors.delete(this.options.collection, { must: [{ key: 'bookId', match: bookId }], mustNot: [{ key: 'revision', match: revisionId }] });
    await this.options.vectors.flush();
    const doc = await this.save(bookId, { state: 'INDEXED', chunksIndexed: chunks.length });
    logger.info({ bookId, revisionId, chunks: chunks.length }, 'book indexed');
    return doc;
  }

  /** Removes every point of the book (unpublished); idempotent. */
  async removeBook(bookId: string): Promise<void> {
    await this.options.vectors.delete(this.options.collection, { must: [{ key: 'bookId', match: bookId }] });
    await this.options.vectors.flush();
    await this.save(bookId, { state: 'REMOVED', revisionId: null, chunksIndexed: 0, chunksTotal: 0, error: null });
  }

  /** Records a failure so the status shows it; the event is retried by the consumer. */
  async markFailed(bookId: string, error: unknown): Promise<void> {
    await this.options.store.books.updateOne({ _id: bookId }, { $set: { state: 'FAILED', error: String((error as Error)?.message ?? error).slice(0, 500), updatedAt: new Date() } });
  }

  /**
   * Rebuilds every point from the recorded revisions (the index is derived data): used when the
   * embedded index is missing or corrupt at start-up, or the embedder changed.
   */
  async rebuildAll(signal?: AbortSignal): Promise<number> {
    const books = await this.options.store.books.find({ state: { $in: ['PENDING', 'INDEXING', 'INDEXED', 'FAILED'] }, revisionId: { $ne: null } }).toArray();
    await this.options.store.books.updateMany({ _id: { $in: books.map((b) => b._id) } }, { $set: { state: 'PENDING', chunksIndexed: 0, updatedAt: new Date() } });
    let rebuilt = 0;
    for (const book of books) {
      signal?.throwIfAborted();
      try {
        await this.indexRevision(book._id, book.revisionId!, signal);
        rebuilt++;
      } catch (error) {
        if (signal?.aborted) throw error;
        this.options.logger.error({ err: error, bookId: book._id }, 'rebuilding a book failed');
        await this.markFailed(book._id, error);
      }
    }
    return rebuilt;
  }

  /** Points expected in the index by the recorded progress (a mismatch means lost writes). */
  async expectedPoints(): Promise<number> {
    const books = await this.options.store.books.find({ state: { $in: ['INDEXING', 'INDEXED'] } }).toArray();
    return books.reduce((sum, b) => sum + b.chunksIndexed, 0);
  }

  private async loadRevision(revisionId: string, signal?: AbortSignal): Promise<PreparedRevision> {
    if (this.options.loadRevision) return this.options.loadRevision(revisionId, signal);
    const { chapters, ...content } = await this.options.catalog.revisionChapters(revisionId, signal);
    return { content, chunks: chunkRevision({ ...content, chapters }, this.options.chunker) };
  }

  private async upsertChunks(content: PreparedRevision['content'], batch: ReadonlyArray<{ chapterId: string; n: number; chunk: Chunk }>, signal?: AbortSignal): Promise<void> {
    const dense = await this.options.embedder.embed(batch.map((b) => b.chunk.text), signal);
    const lang = primaryLanguage(content.language);
    const points: VectorPoint[] = batch.map(({ chapterId, n, chunk }, i) => {
      const payload: ParagraphPayload = {
        bookId: content.bookId,
        chapterId,
        revision: content.revisionId,
        paragraphIds: [...chunk.paragraphIds],
        paragraphStarts: [...chunk.paragraphStarts],
        startOffset: chunk.startOffset,
        endOffset: chunk.endOffset,
        language: content.language,
        lang,
        authors: content.authors,
        text: chunk.text,
      };
      return { id: pointId(content.revisionId, chapterId, n), dense: dense[i]!, sparse: this.options.sparse.document(chunk.text), payload: { ...payload } };
    });
    await this.options.vectors.upsert(this.options.collection, points);
  }

  private async save(bookId: string, fields: Partial<Omit<BookIndexDoc, '_id'>>): Promise<BookIndexDoc> {
    const doc = await this.options.store.books.findOneAndUpdate(
      { _id: bookId },
      {
        $set: { ...fields, updatedAt: new Date() },
        $setOnInsert: {
          ...(fields.title === undefined ? { title: '' } : {}),
          ...(fields.authors === undefined ? { authors: [] } : {}),
          ...(fields.language === undefined ? { language: 'und' } : {}),
          ...(fields.chunksTotal === undefined ? { chunksTotal: 0 } : {}),
          ...(fields.revisionId === undefined ? { revisionId: null } : {}),
          ...(fields.error === undefined ? { error: null } : {}),
        },
      },
      { upsert: true, returnDocument: 'after' },
    );
    this.options.onBookChanged?.(doc!);
    return doc!;
  }
}

/** Filter of the points a reader may be shown, before the per-request readable check. */
export function paragraphFilter(filter: { bookIds?: readonly string[]; lang?: string; authors?: readonly string[] }): PayloadFilter | undefined {
  const must = [
    ...(filter.bookIds ? [{ key: 'bookId', match: { any: filter.bookIds } }] : []),
    ...(filter.lang ? [{ key: 'lang', match: filter.lang }] : []),
    ...(filter.authors ? [{ key: 'authors', match: { any: filter.authors } }] : []),
  ];
  return must.length > 0 ? { must } : undefined;
}
