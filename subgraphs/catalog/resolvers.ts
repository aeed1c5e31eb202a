/** Thin resolvers: read arguments, ask the policy (policy.ts) what the caller may see, shape results. */
import type { GraphQLResolveInfoWithCacheControl as Info } from '@apollo/cache-control-types';
import { Kind } from 'graphql';
import { BOOK_LISTS_TAG, bookChangeTags, type ResponseTags } from '../../lib/cacheTags.js';
import type { Caller } from '../../lib/identity.js';
import { DateTime } from '../../lib/scalars.js';
import type { Resolvers } from './generated/resolvers.js';
import type { Reader } from './licensing.js';
import { tagBooks, type CatalogLoaders } from './loaders.js';
import { connectionOf, keyAfter, nodesOf, pageSize } from '../../lib/pagination.js';
import type { BookCover } from './covers.js';
import { isInterrupted } from './pipeline.js';
import { can, CATALOG, visibleRevisionId } from './policy.js';
import { splitParagraphId, type CatalogService } from './service.js';
import type { BookDoc, ChapterDoc, ChapterSummary, JobDoc, ParagraphSpan, RevisionDoc } from './store.js';

export interface CatalogContext {
  readonly caller: Caller;
  readonly reader: Reader;
  readonly service: CatalogService;
  readonly loaders: CatalogLoaders;
  /** What this response holds, and what a mutation made stale (the gateway's response cache). */
  readonly cacheTags: ResponseTags;
}

export interface ParagraphNode {
  readonly chapter: ChapterDoc;
  readonly span: ParagraphSpan;
}

/**
 * What a caller sees depends on who they are: staff see drafts (never cache them, so an editor
 * sees a publish at once) and each partner sees its own licensed set (private: never shared).
 */
/** Whether the query reads `field` of this field's result; true when unsure (fragments). */
function selects(info: Info, field: string): boolean {
  for (const node of info.fieldNodes) {
    for (const sel of node.selectionSet?.selections ?? []) {
      if (sel.kind !== Kind.FIELD || sel.name.value === field) return true;
    }
  }
  return false;
}

function hintCaller(ctx: CatalogContext, info: Info): void {
  if (can(ctx.reader, 'manage', CATALOG)) info.cacheControl?.setCacheHint({ maxAge: 0 });
  else if (ctx.reader.partnerId) info.cacheControl?.setCacheHint({ scope: 'PRIVATE' });
}

/** Never cache "not found": a book published a second later must show up at once. */
async function hinted<T>(ctx: CatalogContext, info: Info, lookup: Promise<T | null>): Promise<T | null> {
  hintCaller(ctx, info);
  const found = await lookup;
  if (found === null) info.cacheControl?.setCacheHint({ maxAge: 0 });
  return found;
}

async function visibleBook(ctx: CatalogContext, id: string): Promise<BookDoc | null> {
  const book = await ctx.loaders.book.load(id);
  return book && can(ctx.reader, 'read', { kind: 'book', book }) ? book : null;
}

async function visibleChapter(ctx: CatalogContext, id: string): Promise<ChapterDoc | null> {
  if (id.length > 100) return null;
  const chapter = await ctx.loaders.chapter.load(id);
  if (!chapter) return null;
  const [book, revision] = await Promise.all([ctx.loaders.book.load(chapter.bookId), ctx.loaders.revision.load(chapter.revisionId)]);
  return book && revision && can(ctx.reader, 'read', { kind: 'revision', book, revision }) ? chapter : null;
}

/** `<revisionId>.c<n>.p<m>` → its chapter and span, when the caller may see it. */
async function visibleParagraph(ctx: CatalogContext, id: string): Promise<ParagraphNode | null> {
  const split = splitParagraphId(id);
  if (!split) return null;
  const chapter = await visibleChapter(ctx, split.chapterId);
  const span = chapter?.paragraphs[split.index];
  return chapter && span ? { chapter, span } : null;
}

async function visibleRevision(ctx: CatalogContext, book: BookDoc): Promise<RevisionDoc | null> {
  const id = visibleRevisionId(book, ctx.reader);
  return id ? ctx.loaders.revision.load(id) : null;
}

/** A TOC entry has no text; load the whole chapter when a field needs it. */
async function fullChapter(ctx: CatalogContext, chapter: ChapterSummary): Promise<ChapterDoc> {
  if (chapter.text !== undefined && chapter.html !== undefined && chapter.paragraphs !== undefined) return chapter as ChapterDoc;
  const full = await ctx.loaders.chapter.load(chapter._id);
  if (!full) throw new Error(`chapter ${chapter._id} vanished`);
  return full;
}

/** A chapter's or a job's book: books are never deleted, so a missing one is a broken store. */
async function bookOf(ctx: CatalogContext, id: string): Promise<BookDoc> {
  const book = await ctx.loaders.book.load(id);
  if (!book) throw new Error(`book ${id} vanished`);
  return book;
}

async function purgedAfter<T>(ctx: CatalogContext, bookId: string, change: Promise<T>): Promise<T> {
  const result = await change;
  ctx.cacheTags.purge(...bookChangeTags(bookId));
  return result;
}

async function publishedCover(ctx: CatalogContext, book: BookDoc): Promise<BookCover | null> {
  const revision = book.status === 'PUBLISHED' && book.publishedRevisionId ? await ctx.loaders.revision.load(book.publishedRevisionId) : null;
  return ctx.service.cover(revision);
}

const staffOnly = <T>(ctx: CatalogContext, value: () => T): T | null => (can(ctx.reader, 'manage', CATALOG) ? value() : null);

export const resolvers: Resolvers = {
  DateTime,
  Query: {
    book: (_: unknown, { id }, ctx: CatalogContext, info) => hinted(ctx, info, visibleBook(ctx, id)),
    books: async (_: unknown, args, ctx: CatalogContext, info) => {
      hintCaller(ctx, info);
      const books = await ctx.service.listBooks(ctx.reader, args.filter ?? {}, args, { count: selects(info, 'totalCount') });
      ctx.cacheTags.add(BOOK_LISTS_TAG);
      const nodes = nodesOf(books);
      tagBooks(ctx.cacheTags, nodes);
      ctx.loaders.primeBooks(nodes);
      return books;
    },
    chapter: (_: unknown, { id }, ctx: CatalogContext, info) => hinted(ctx, info, visibleChapter(ctx, id)),
    paragraph: (_: unknown, { id }, ctx: CatalogContext, info) => hinted(ctx, info, visibleParagraph(ctx, id)),
    uploadJob: (_: unknown, { id }, ctx: CatalogContext) => ctx.service.job(ctx.caller, id),
    uploadJobUpdate: (_: unknown, { seq, id }, ctx: CatalogContext) => ctx.service.jobUpdate(ctx.caller, seq, id),
  },
  Mutation: {
    createBook: (_: unknown, { input }, ctx: CatalogContext) => ctx.service.createBook(ctx.caller, input),
    updateBook: (_: unknown, { id, input }, ctx: CatalogContext) => purgedAfter(ctx, id, ctx.service.updateBook(ctx.caller, id, input)),
    uploadBookContent: (_: unknown, { input }, ctx: CatalogContext) =>
      ctx.service.uploadContent(ctx.caller, input.bookId, input.epubBase64),
    // The events these emit purge the gateways' caches too; asking here as well makes the gateway that
    // runs the mutation purge before it answers (and fan the purge out), not a moment later.
    publishBook: (_: unknown, { id }, ctx: CatalogContext) => purgedAfter(ctx, id, ctx.service.publish(ctx.caller, id)),
    unpublishBook: (_: unknown, { id }, ctx: CatalogContext) => purgedAfter(ctx, id, ctx.service.unpublish(ctx.caller, id)),
    setBookLicense: (_: unknown, { input }, ctx: CatalogContext) =>
      purgedAfter(ctx, input.bookId, ctx.service.setLicense(ctx.caller, input)),
  },
  Book: {
    __resolveReference: (ref, ctx: CatalogContext, info) => hinted(ctx, info, visibleBook(ctx, ref.id)),
    id: (book: BookDoc) => book._id,
    wordCount: async (book: BookDoc, _: unknown, ctx: CatalogContext) => (await visibleRevision(ctx, book))?.wordCount ?? 0,
    chapterCount: async (book: BookDoc, _: unknown, ctx: CatalogContext) => (await visibleRevision(ctx, book))?.chapterCount ?? 0,
    currentRevision: (book: BookDoc, _: unknown, ctx: CatalogContext) => visibleRevision(ctx, book),
    draftRevision: (book: BookDoc, _: unknown, ctx: CatalogContext) =>
      staffOnly(ctx, () => (book.latestRevisionId ? ctx.loaders.revision.load(book.latestRevisionId) : null)),
    publishedRevision: (book: BookDoc, _: unknown, ctx: CatalogContext) =>
      staffOnly(ctx, () => (book.publishedRevisionId ? ctx.loaders.revision.load(book.publishedRevisionId) : null)),
    revisions: (book: BookDoc, args, ctx: CatalogContext) => staffOnly(ctx, () => ctx.service.revisionsOfBook(ctx.caller, book._id, args)),
    chapters: async (book: BookDoc, { revisionId }, ctx: CatalogContext) => {
      if (revisionId) {
        const revision = revisionId.length <= 100 ? await ctx.loaders.revision.load(revisionId) : null;
        return revision && can(ctx.reader, 'read', { kind: 'revision', book, revision }) ? ctx.loaders.toc.load(revision._id) : [];
      }
      const id = visibleRevisionId(book, ctx.reader);
      return id ? ctx.loaders.toc.load(id) : [];
    },
    license: (book: BookDoc, _: unknown, ctx: CatalogContext) => staffOnly(ctx, () => book.license),
    uploadJobs: (book: BookDoc, args, ctx: CatalogContext) => staffOnly(ctx, () => ctx.service.jobsOfBook(ctx.caller, book._id, args)),
    cover: (book: BookDoc, _: unknown, ctx: CatalogContext) => publishedCover(ctx, book),
    coverUrl: async (book: BookDoc, _: unknown, ctx: CatalogContext) => book.coverUrl ?? (await publishedCover(ctx, book))?.url ?? null,
    download: async (book: BookDoc, _: unknown, ctx: CatalogContext) => {
      const revision = book.publishedRevisionId ? await ctx.loaders.revision.load(book.publishedRevisionId) : null;
      return ctx.service.download(book, ctx.reader, revision);
    },
  },
  BookRevision: { id: (revision: RevisionDoc) => revision._id },
  Chapter: {
    __resolveReference: (ref, ctx: CatalogContext, info) => hinted(ctx, info, visibleChapter(ctx, ref.id)),
    id: (chapter: ChapterSummary) => chapter._id,
    book: (chapter: ChapterSummary, _: unknown, ctx: CatalogContext) => bookOf(ctx, chapter.bookId),
    text: async (chapter: ChapterSummary, _: unknown, ctx: CatalogContext) => (await fullChapter(ctx, chapter)).text,
    html: async (chapter: ChapterSummary, _: unknown, ctx: CatalogContext) => (await fullChapter(ctx, chapter)).html,
    paragraphs: async (chapter: ChapterSummary, args, ctx: CatalogContext) => {
      const limit = pageSize(args.first);
      const after = keyAfter(args.after, 'number');
      const full = await fullChapter(ctx, chapter);
      const from = after === null ? 0 : after + 1;
      const nodes: ParagraphNode[] = full.paragraphs.slice(from, from + limit + 1).map((span) => ({ chapter: full, span }));
      return connectionOf(nodes, limit, (n) => [n.span.index], full.paragraphs.length);
    },
  },
  Paragraph: {
    __resolveReference: (ref, ctx: CatalogContext, info) => hinted(ctx, info, visibleParagraph(ctx, ref.id)),
    id: (p: ParagraphNode) => `${p.chapter._id}.p${p.span.index}`,
    chapter: (p: ParagraphNode) => p.chapter,
    index: (p: ParagraphNode) => p.span.index,
    text: (p: ParagraphNode) => p.chapter.text.slice(p.span.startOffset, p.span.endOffset),
    startOffset: (p: ParagraphNode) => p.span.startOffset,
    endOffset: (p: ParagraphNode) => p.span.endOffset,
  },
  UploadJob: {
    id: (job: JobDoc) => job._id,
    book: (job: JobDoc, _: unknown, ctx: CatalogContext) => bookOf(ctx, job.bookId),
    revision: (job: JobDoc, _: unknown, ctx: CatalogContext) => (job.status === 'STORED' ? ctx.loaders.revision.load(job.revisionId) : null),
    interrupted: (job: JobDoc) => isInterrupted(job, new Date()),
    warnings: (job: JobDoc) => job.warnings ?? [],
  },
};
