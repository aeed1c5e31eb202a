/**
 * The book data platform's rules: book metadata, content uploads, publishing, licensing and what
 * each caller may read. Knows nothing of GraphQL or HTTP. Every state change that others react to
 * goes through the outbox in the same transaction as the change (see contracts: BookPublished,
 * BookContentReplaced, BookUnpublished, BookLicenseChanged).
 */
import { systemClock, type Clock } from '../../lib/clock.js';
import { badInput, conflict, FolioError, notFound } from '../../lib/errors.js';
import type { Outbox } from '../../lib/events.js';
import type { Caller } from '../../lib/identity.js';
import type { Logger } from '../../lib/logger.js';
import { ObjectId } from '../../lib/storage/index.js';
import type { Filter } from '../../lib/storage/types.js';
import type { DownloadSigner, SignedDownload } from './downloads.js';
import { subjectOf } from './downloads.js';
import { withBodies } from './chapterBodies.js';
import { coverLink, type BookCover } from './covers.js';
import { EpubError } from './epub/errors.js';
import { normalizeIsbn } from './epub/opf.js';
import { readableFilter, type Reader } from './licensing.js';
import { check, httpUrl, language, list, name, text } from '../../lib/validation.js';
import { connectionOf, keyAfter, pageNewestFirst, pageSize, type CountedConnection, type PageArgs } from '../../lib/pagination.js';
import { UPLOAD_JOB_UPDATED, type UploadPipeline } from './pipeline.js';
import { authorize, can, CATALOG } from './policy.js';
import type { BookDoc, BookStatus, CatalogStore, ChapterDoc, ChapterSummary, JobDoc, LicenseDoc, RevisionDoc } from './store.js';

const MiB = 1024 * 1024;

/** Largest EPUB accepted through GraphQL (bulk ingest takes up to the parser's 50 MiB). */
export const MAX_UPLOAD_BYTES = 16 * MiB;
/**
 * The catalog subgraph's request body limit: a 16 MiB EPUB is 22.4 MB as base64, plus the query
 * and JSON. The gateway's FOLIO_GATEWAY_MAX_BODY_BYTES must be at least this for uploads to pass.
 */
export const CATALOG_MAX_BODY_BYTES = 24 * MiB;

export const LIMITS = {
  titleMax: 500,
  authorsMax: 20,
  authorMax: 200,
  descriptionMax: 10_000,
  tagsMax: 20,
  tagMax: 60,
  coverUrlMax: 2_048,
  queryMax: 200,
  territoriesMax: 250,
  partnerIdsMax: 100,
  readableBatchMax: 1_000,
  accessBatchMax: 500,
} as const;

export interface BookInput {
  readonly title?: string | null;
  readonly authors?: readonly string[] | null;
  readonly language?: string | null;
  readonly description?: string | null;
  readonly tags?: readonly string[] | null;
  readonly isbn?: string | null;
  readonly coverUrl?: string | null;
}

export interface LicenseInput {
  readonly bookId: string;
  readonly startsAt?: Date | null;
  readonly endsAt?: Date | null;
  readonly territories?: readonly string[] | null;
  readonly partnerIds?: readonly string[] | null;
}

export interface BookFilter {
  readonly query?: string | null;
  readonly author?: string | null;
  readonly tag?: string | null;
  readonly language?: string | null;
  readonly status?: BookStatus | null;
}

/** The caller as the licensing rules see it (the territory is the one the gateway signed, or null). */
export const readerOf = (caller: Caller): Reader => ({ userId: caller.userId, partnerId: caller.partnerId, roles: caller.roles, territory: caller.territory });

/** The signed-in staff member's id; UNAUTHENTICATED or FORBIDDEN otherwise (policy `manage`). */
/** One UploadJobUpdated event, as `uploadJobUpdated` delivers it. */
export interface UploadJobUpdateView {
  readonly seq: string;
  /** The status the event announced. */
  readonly status: JobDoc['status'];
  /** The job as it is now. */
  readonly job: JobDoc;
}

function staffUser(caller: Caller): string {
  authorize(readerOf(caller), 'manage', CATALOG);
  return caller.userId!;
}

/** `<revisionId>.c<n>.p<m>` → the chapter id and paragraph index; null for anything else. */
export function splitParagraphId(id: string): { chapterId: string; index: number } | null {
  const match = /^([0-9a-f]{24}\.c\d{1,5})\.p(\d{1,7})$/.exec(id);
  return match ? { chapterId: match[1]!, index: Number(match[2]) } : null;
}

/** What ugc and search ask in one call: which of these the reader may read now (policy `read`). */
export interface AccessQuery {
  readonly bookIds?: readonly string[];
  readonly chapterIds?: readonly string[];
  readonly paragraphIds?: readonly string[];
}

export interface ReadableChapter {
  readonly id: string;
  readonly bookId: string;
  readonly revisionId: string;
  /** The chapter is in the book's published revision (not a replaced or, for staff, a draft one). */
  readonly current: boolean;
  /** Length of the text in UTF-16 code units (the unit of highlight offsets). */
  readonly length: number;
}

export interface ReadableParagraph extends Omit<ReadableChapter, 'id'> {
  readonly id: string;
  readonly chapterId: string;
}

/** Only the readable ids appear; an unreadable id and an unknown one are answered alike (left out). */
export interface AccessAnswer {
  readonly books: string[];
  readonly chapters: ReadableChapter[];
  readonly paragraphs: ReadableParagraph[];
}

const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Authors and tags: one-line names, empty ones dropped, each kept once. */
const names = (maxItems: number, maxEach: number) => list(name(maxEach, { min: 0 }), maxItems);

/** The metadata fields of an input, validated; absent fields are left out. */
function metadataOf(input: BookInput): Partial<BookDoc> {
  const out: Partial<BookDoc> = {};
  if (input.title !== undefined && input.title !== null) {
    out.title = check(name(LIMITS.titleMax), input.title, 'title');
  }
  if (input.authors) {
    out.authors = check(names(LIMITS.authorsMax, LIMITS.authorMax), input.authors, 'authors');
    out.authorKeys = out.authors.map((a) => a.toLowerCase());
  }
  if (input.language) out.language = check(language, input.language, 'language');
  if (input.description !== undefined) out.description = input.description ? check(text({ max: LIMITS.descriptionMax, min: 0 }), input.description, 'description') || null : null;
  if (input.tags) out.tags = [...new Set(check(names(LIMITS.tagsMax, LIMITS.tagMax), input.tags, 'tags').map((t) => t.toLowerCase()))];
  if (input.isbn !== undefined) {
    if (input.isbn) {
      const isbn = normalizeIsbn(input.isbn.slice(0, 40));
      if (!isbn) throw badInput('isbn is not a valid ISBN-10 or ISBN-13.', 'isbn');
      out.isbn = isbn;
    } else out.isbn = null;
  }
  if (input.coverUrl !== undefined) out.coverUrl = input.coverUrl ? check(httpUrl(LIMITS.coverUrlMax), input.coverUrl, 'coverUrl') : null;
  return out;
}

/** The longest base64 text an upload within MAX_UPLOAD_BYTES can have. */
const MAX_BASE64_CHARS = Math.ceil(MAX_UPLOAD_BYTES / 3) * 4;

/**
 * The bytes of canonical base64 (the standard alphabet, padded, nothing else), or undefined;
 * undefined without decoding when longer than any upload may be. Node's decoder skips characters
 * outside the alphabet and reads base64url too, so the text is canonical exactly when the decoded
 * bytes encode back to it: two native passes (a few ms for a 5.5 MB upload) where a regex over
 * the whole string held catalog's event loop ~100 ms.
 */
function strictBase64(text: string): Buffer | undefined {
  if (text.length === 0 || text.length % 4 !== 0 || text.length > MAX_BASE64_CHARS) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

const sortKeyOf = (title: string, id: string): string => `${title.toLowerCase()}\u0000${id}`;

/**
 * Decodes base64 strictly and within the size limit, before allocating the bytes. Line-wrapped
 * (MIME) base64 is accepted; only input that is not plain base64 pays for a scan for whitespace.
 */
export function decodeEpubBase64(value: string): Buffer {
  let text = value;
  let bytes = strictBase64(text);
  if (bytes === undefined && /\s/.test(text)) {
    text = text.replace(/\s+/g, '');
    bytes = strictBase64(text);
  }
  if (text.length > MAX_BASE64_CHARS) throw new EpubError('TOO_LARGE', `The EPUB is larger than ${MAX_UPLOAD_BYTES / MiB} MiB; use bulk ingest for larger files.`);
  if (bytes === undefined) throw badInput('epubBase64 is not valid base64.', 'epubBase64');
  if (bytes.length > MAX_UPLOAD_BYTES) throw new EpubError('TOO_LARGE', `The EPUB is larger than ${MAX_UPLOAD_BYTES / MiB} MiB.`);
  // Refuse the obviously wrong at once; everything else is the pipeline's job.
  if (bytes.length < 4 || bytes.readUInt32LE(0) !== 0x04034b50) throw new EpubError('NOT_A_ZIP', 'The file is not an EPUB (not a zip archive).');
  return bytes;
}

export interface CatalogServiceOptions {
  readonly logger: Logger;
  readonly signer: DownloadSigner;
  /** Business time: timestamps and licence windows. @default systemClock */
  readonly now?: Clock;
}

/** Chapters read per step when a whole revision is streamed (revisionContent). */
const REVISION_CHAPTER_PAGE = 5;

export class CatalogService {
  private readonly now: Clock;

  constructor(
    private readonly store: CatalogStore,
    private readonly pipeline: UploadPipeline,
    private readonly outbox: Outbox,
    private readonly options: CatalogServiceOptions,
  ) {
    this.now = options.now ?? systemClock;
  }

  // ---- management --------------------------------------------------------------------------

  async createBook(caller: Caller, input: BookInput, options: { metadataFromContent?: boolean } = {}): Promise<BookDoc> {
    const userId = staffUser(caller);
    const meta = metadataOf(input);
    if (!meta.title) throw badInput('title must not be empty.', 'title');
    const id = new ObjectId().toHexString();
    const now = this.now();
    const book: BookDoc = {
      _id: id,
      title: meta.title,
      sortKey: sortKeyOf(meta.title, id),
      authors: meta.authors ?? [],
      authorKeys: meta.authorKeys ?? [],
      language: meta.language ?? 'und',
      description: meta.description ?? null,
      tags: meta.tags ?? [],
      isbn: meta.isbn ?? null,
      coverUrl: meta.coverUrl ?? null,
      status: 'DRAFT',
      publishedRevisionId: null,
      latestRevisionId: null,
      revisionCount: 0,
      publishedAt: null,
      license: null,
      metadataFromContent: options.metadataFromContent ?? false,
      createdBy: userId,
      createdAt: now,
      updatedAt: now,
    };
    await this.store.books.insertOne(book);
    return book;
  }

  async updateBook(caller: Caller, id: string, input: BookInput): Promise<BookDoc> {
    staffUser(caller);
    const meta = metadataOf(input);
    if (meta.title) meta.sortKey = sortKeyOf(meta.title, id);
    const updated = await this.store.books.findOneAndUpdate(
      { _id: id },
      { $set: { ...meta, metadataFromContent: false, updatedAt: this.now() } },
      { returnDocument: 'after' },
    );
    if (!updated) throw notFound('Book');
    return updated;
  }

  /** Queues an upload (base64 from GraphQL); returns the job at once. */
  async uploadContent(caller: Caller, bookId: string, epubBase64: string): Promise<JobDoc> {
    const userId = staffUser(caller);
    if (!(await this.store.books.findOne({ _id: bookId }, { projection: { _id: 1 } }))) throw notFound('Book');
    return this.pipeline.enqueue(bookId, decodeEpubBase64(epubBase64), userId);
  }

  /** Makes the newest stored revision the published one. */
  async publish(caller: Caller, id: string): Promise<BookDoc> {
    staffUser(caller);
    const book = await this.store.books.findOne({ _id: id });
    if (!book) throw notFound('Book');
    const target = book.latestRevisionId;
    if (!target) throw badInput('The book has no stored content yet: upload an EPUB and wait for its job to reach STORED.', 'id');
    if (book.status === 'PUBLISHED' && book.publishedRevisionId === target) return book;
    const now = this.now();
    return this.outbox.publish(async (tx, emit) => {
      const books = tx.collection<BookDoc>(this.store.books.collectionName);
      const updated = await books.findOneAndUpdate(
        { _id: id, status: book.status, publishedRevisionId: book.publishedRevisionId, latestRevisionId: target },
        { $set: { status: 'PUBLISHED', publishedRevisionId: target, publishedAt: book.publishedAt ?? now, updatedAt: now } },
        { returnDocument: 'after' },
      );
      if (!updated) throw conflict('The book changed while publishing; try again.');
      await tx.collection<RevisionDoc>(this.store.revisions.collectionName).updateOne({ _id: target, publishedAt: null }, { $set: { publishedAt: now } });
      if (book.status !== 'PUBLISHED') await emit('BookPublished', { bookId: id, revisionId: target });
      // Also after unpublish → republish with new content: annotations on the old revision need re-anchoring.
      if (book.publishedRevisionId && book.publishedRevisionId !== target) {
        await emit('BookContentReplaced', { bookId: id, previousRevisionId: book.publishedRevisionId, revisionId: target });
      }
      return updated;
    });
  }

  async unpublish(caller: Caller, id: string): Promise<BookDoc> {
    staffUser(caller);
    return this.outbox.publish(async (tx, emit) => {
      const books = tx.collection<BookDoc>(this.store.books.collectionName);
      const updated = await books.findOneAndUpdate({ _id: id, status: 'PUBLISHED' }, { $set: { status: 'UNPUBLISHED', updatedAt: this.now() } }, { returnDocument: 'after' });
      if (updated) {
        await emit('BookUnpublished', { bookId: id });
        return updated;
      }
      const current = await books.findOne({ _id: id });
      if (!current) throw notFound('Book');
      return current; // not published: nothing to do
    });
  }

  async setLicense(caller: Caller, input: LicenseInput): Promise<BookDoc> {
    staffUser(caller);
    const startsAt = input.startsAt ?? null;
    const endsAt = input.endsAt ?? null;
    if (startsAt && endsAt && endsAt <= startsAt) throw badInput('endsAt must be after startsAt.', 'endsAt');
    const territories = [...new Set((input.territories ?? []).map((t) => t.trim().toUpperCase()))];
    if (territories.length > LIMITS.territoriesMax) throw badInput(`territories may have at most ${LIMITS.territoriesMax} entries.`, 'territories');
    if (territories.some((t) => !/^[A-Z]{2}$/.test(t))) throw badInput('territories must be ISO 3166-1 alpha-2 codes such as "US" or "CN".', 'territories');
    const partnerIds = [...new Set((input.partnerIds ?? []).map((p) => p.trim()))];
    if (partnerIds.length > LIMITS.partnerIdsMax || partnerIds.some((p) => !/^[A-Za-z0-9_-]{1,64}$/.test(p))) {
      throw badInput(`partnerIds must be at most ${LIMITS.partnerIdsMax} API key ids.`, 'partnerIds');
    }
    const license: LicenseDoc = { startsAt, endsAt, territories, partnerIds, updatedAt: this.now() };
    return this.outbox.publish(async (tx, emit) => {
      const updated = await tx
        .collection<BookDoc>(this.store.books.collectionName)
        .findOneAndUpdate({ _id: input.bookId }, { $set: { license, updatedAt: license.updatedAt } }, { returnDocument: 'after' });
      if (!updated) throw notFound('Book');
      await emit('BookLicenseChanged', { bookId: input.bookId });
      return updated;
    });
  }

  async job(caller: Caller, id: string): Promise<JobDoc | null> {
    staffUser(caller);
    return this.store.jobs.findOne({ _id: id });
  }

  /**
   * Catalog event `seq` when it is about job `id`: the status it announced and the job as it is now
   * (`uploadJobUpdated` at the gateway asks this per event, with the subscriber's identity). Staff
   * only (FORBIDDEN otherwise). Seq "0" is the gateway's subscribe-time check: NOT_FOUND for an
   * unknown job, else null.
   */
  async jobUpdate(caller: Caller, seq: string, id: string): Promise<UploadJobUpdateView | null> {
    staffUser(caller);
    if (id.length > 100) throw notFound('UploadJob');
    if (seq === '0') {
      if (!(await this.store.jobs.findOne({ _id: id }, { projection: { _id: 1 } }))) throw notFound('UploadJob');
      return null;
    }
    const event = await this.outbox.at(seq, [UPLOAD_JOB_UPDATED]);
    if (!event || event.payload.jobId !== id) return null;
    const job = await this.store.jobs.findOne({ _id: id });
    return job ? { seq: String(event.seq), status: (event.payload.status as JobDoc['status']) ?? job.status, job } : null;
  }

  async jobsOfBook(caller: Caller, bookId: string, page: PageArgs): Promise<CountedConnection<JobDoc>> {
    staffUser(caller);
    return pageNewestFirst(this.store.jobs, { bookId }, page);
  }

  async revisionsOfBook(caller: Caller, bookId: string, page: PageArgs): Promise<CountedConnection<RevisionDoc>> {
    staffUser(caller);
    const limit = pageSize(page.first);
    const after = keyAfter(page.after, 'number');
    const docs = await this.store.revisions
      .find(after === null ? { bookId } : { bookId, number: { $lt: after } })
      .sort({ number: -1 })
      .limit(limit + 1)
      .toArray();
    return connectionOf(docs, limit, (r) => [r.number], await this.store.revisions.countDocuments({ bookId }));
  }

  // ---- reading -----------------------------------------------------------------------------

  async booksByIds(ids: readonly string[]): Promise<Map<string, BookDoc>> {
    const docs = await this.store.books.find({ _id: { $in: [...ids] } }).toArray();
    return new Map(docs.map((d) => [d._id, d]));
  }

  async revisionsByIds(ids: readonly string[]): Promise<Map<string, RevisionDoc>> {
    const docs = await this.store.revisions.find({ _id: { $in: [...ids] } }).toArray();
    return new Map(docs.map((d) => [d._id, d]));
  }

  async chaptersByIds(ids: readonly string[]): Promise<Map<string, ChapterDoc>> {
    const docs = await withBodies(this.store, await this.store.chapters.find({ _id: { $in: [...ids] } }).toArray());
    return new Map(docs.map((d) => [d._id, d]));
  }

  /** Tables of contents: chapters without their text, per revision, in order. */
  async tocsByRevisionIds(revisionIds: readonly string[]): Promise<Map<string, ChapterSummary[]>> {
    const docs = await this.store.chapters
      .find({ revisionId: { $in: [...revisionIds] } }, { projection: { text: 0, html: 0, paragraphs: 0, overflow: 0 } })
      .sort({ revisionId: 1, index: 1 })
      .toArray();
    const out = new Map<string, ChapterSummary[]>(revisionIds.map((id) => [id, []]));
    for (const doc of docs as ChapterSummary[]) out.get(doc.revisionId)?.push(doc);
    return out;
  }

  /**
   * A whole revision with its chapters in order (for indexing and re-anchoring), without their
   * HTML. The chapters are read a few at a time as the caller iterates: a 100,000-paragraph book
   * is tens of MB, and reading (copying) it in one go blocked the event loop for hundreds of ms.
   */
  async revisionContent(revisionId: string): Promise<{ revision: RevisionDoc; book: BookDoc; chapters: AsyncIterable<Omit<ChapterDoc, 'html'>> } | null> {
    const revision = await this.store.revisions.findOne({ _id: revisionId });
    const book = revision && (await this.store.books.findOne({ _id: revision.bookId }));
    if (!revision || !book) return null;
    const { chapters } = this.store;
    const store = this.store;
    async function* inOrder(): AsyncGenerator<Omit<ChapterDoc, 'html'>> {
      const indexes = (await chapters.find({ revisionId }, { projection: { _id: 0, index: 1 } }).sort({ index: 1 }).toArray()).map((c) => c.index);
      for (let i = 0; i < indexes.length; i += REVISION_CHAPTER_PAGE) {
        const page = indexes.slice(i, i + REVISION_CHAPTER_PAGE);
        const docs = await chapters
          .find({ revisionId, index: { $gte: page[0]!, $lte: page.at(-1)! } }, { projection: { html: 0 } })
          .sort({ index: 1 })
          .toArray();
        yield* await withBodies(store, docs, ['text']);
      }
    }
    return { revision, book, chapters: inOrder() };
  }

  /**
   * A page of books in title order: a walk of the `status+sortKey` index from `after` (O(log n +
   * page) on both backends). `count: false` skips `totalCount` (-1 then), which tests every
   * matching book: the resolver passes it when the query does not select the field.
   */
  async listBooks(reader: Reader, filter: BookFilter, page: PageArgs, options: { count?: boolean } = {}): Promise<CountedConnection<BookDoc>> {
    const limit = pageSize(page.first);
    const after = keyAfter(page.after, 'string');
    const clauses: Filter<BookDoc>[] = [];
    const visible = readableFilter(reader, this.now());
    if (visible) clauses.push(visible);
    if (filter.status) {
      if (!can(reader, 'manage', CATALOG)) throw new FolioError('FORBIDDEN', 'Only editors may filter books by status.');
      clauses.push({ status: filter.status });
    }
    if (filter.query) {
      const q = check(name(LIMITS.queryMax, { min: 0 }), filter.query, 'query');
      if (q) {
        const re = { $regex: escapeRegex(q), $options: 'i' };
        clauses.push({ $or: [{ title: re }, { authors: re }, { description: re }] });
      }
    }
    if (filter.author) clauses.push({ authorKeys: check(name(LIMITS.authorMax, { min: 0 }), filter.author, 'author').toLowerCase() });
    if (filter.tag) clauses.push({ tags: check(name(LIMITS.tagMax, { min: 0 }), filter.tag, 'tag').toLowerCase() });
    if (filter.language) clauses.push({ language: { $regex: `^${escapeRegex(check(language, filter.language, 'language'))}(-|$)`, $options: 'i' } });
    const base: Filter<BookDoc> = clauses.length > 1 ? { $and: clauses } : (clauses[0] ?? {});
    const paged: Filter<BookDoc> = after === null ? base : { $and: [...clauses, { sortKey: { $gt: after } }] };
    const fetched = this.store.books.find(paged).sort({ sortKey: 1 }).limit(limit + 1).toArray();
    const [docs, totalCount] = options.count === false ? [await fetched, -1] : await Promise.all([fetched, this.store.books.countDocuments(base)]);
    return connectionOf(docs, limit, (b) => [b.sortKey], totalCount);
  }

  /** Which of these books the reader may read now (for search and ugc). */
  async readable(bookIds: readonly string[], reader: Reader): Promise<string[]> {
    if (bookIds.length > LIMITS.readableBatchMax) throw badInput(`At most ${LIMITS.readableBatchMax} book ids per call.`, 'bookIds');
    const books = await this.booksByIds(bookIds);
    return [...new Set(bookIds)].filter((id) => {
      const book = books.get(id);
      return book !== undefined && book.status === 'PUBLISHED' && can(reader, 'read', { kind: 'book', book }, this.now());
    });
  }

  /**
   * The internal access check (`POST /internal/access`): which of these books, chapters and
   * paragraphs the reader may read now, by the same policy as `book`, `chapter` and `paragraph`.
   */
  async access(reader: Reader, query: AccessQuery): Promise<AccessAnswer> {
    const bookIds = [...new Set(query.bookIds ?? [])];
    const chapterIds = [...new Set(query.chapterIds ?? [])];
    const paragraphIds = [...new Set(query.paragraphIds ?? [])];
    if (bookIds.length + chapterIds.length + paragraphIds.length > LIMITS.accessBatchMax) {
      throw badInput(`At most ${LIMITS.accessBatchMax} ids per access check.`, 'ids');
    }
    const paragraphs = paragraphIds.flatMap((id) => {
      const split = splitParagraphId(id);
      return split ? [{ id, ...split }] : [];
    });
    const chapters = await this.chaptersByIds([...new Set([...chapterIds, ...paragraphs.map((p) => p.chapterId)])]);
    const docs = [...chapters.values()];
    const [books, revisions] = await Promise.all([
      this.booksByIds([...new Set([...bookIds, ...docs.map((c) => c.bookId)])]),
      this.revisionsByIds([...new Set(docs.map((c) => c.revisionId))]),
    ]);
    const now = this.now();
    const readable = new Map<string, ReadableChapter>();
    for (const chapter of docs) {
      const book = books.get(chapter.bookId);
      const revision = revisions.get(chapter.revisionId);
      if (!book || !revision || !can(reader, 'read', { kind: 'revision', book, revision }, now)) continue;
      const current = book.status === 'PUBLISHED' && book.publishedRevisionId === revision._id;
      readable.set(chapter._id, { id: chapter._id, bookId: chapter.bookId, revisionId: chapter.revisionId, current, length: chapter.text.length });
    }
    return {
      books: bookIds.filter((id) => {
        const book = books.get(id);
        return book !== undefined && can(reader, 'read', { kind: 'book', book }, now);
      }),
      chapters: chapterIds.flatMap((id) => readable.get(id) ?? []),
      paragraphs: paragraphs.flatMap(({ id, chapterId, index }) => {
        const chapter = readable.get(chapterId);
        const span = chapters.get(chapterId)?.paragraphs[index];
        return chapter && span ? [{ ...chapter, id, chapterId, length: span.endOffset - span.startOffset }] : [];
      }),
    };
  }

  /** The published revision's cover as a signed link, for anyone who may see the book. */
  cover(revision: RevisionDoc | null): BookCover | null {
    return revision ? coverLink(this.options.signer, revision) : null;
  }

  /** A signed link to the published revision's EPUB, or null when the caller may not download it. */
  async download(book: BookDoc, reader: Reader, revision: RevisionDoc | null): Promise<(SignedDownload & { sizeBytes: number; sha256: string }) | null> {
    const subject = subjectOf(reader);
    if (!subject || !revision || !can(reader, 'download', { kind: 'revision', book, revision }, this.now())) return null;
    return { ...this.options.signer.sign(revision._id, subject), sizeBytes: revision.sizeBytes, sha256: revision.sha256 };
  }
}
