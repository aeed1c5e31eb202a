/**
 * Thin resolvers: read arguments, call the services and the per-request loaders, shape the result.
 * Services and loaders take the viewer and ask policy.ts, where every access rule lives; none here.
 */
import { bookTag, type ResponseTags } from '../../lib/cacheTags.js';
import type { Caller } from '../../lib/identity.js';
import { DateTime } from '../../lib/scalars.js';
import type { Resolvers } from './generated/resolvers.js';
import type { UgcLoaders } from './loaders.js';
import { pageSize, type PageArgs } from '../../lib/pagination.js';
import { isRepairInterrupted, latestRepairJob } from './repair/jobs.js';
import type { AnnotationService } from './service/annotations.js';
import { exportAnnotations } from './service/export.js';
import { likeKey } from './service/likes.js';
import { publicNoteAddition, repairJobUpdate } from './service/liveUpdates.js';
import type { ReviewService } from './service/reviews.js';
import type { ShelfEntryView, ShelfService } from './service/shelf.js';
import type { UgcDeps } from './service/common.js';
import { annotationChange, listChanges, progressChange, shelfChange, shelfEntryOf, type AnnotationChangeView, type ChangeView, type ProgressChangeView, type ShelfChangeView } from './service/sync.js';
import type { AnchorFields, HighlightDoc, NoteDoc, PassageDoc, ProgressDoc, RepairJobDoc, ReviewDoc } from './store.js';

export interface UgcServices extends UgcDeps {
  readonly shelf: ShelfService;
  readonly annotations: AnnotationService;
  readonly reviews: ReviewService;
}

export interface UgcContext {
  readonly caller: Caller;
  readonly services: UgcServices;
  readonly loaders: UgcLoaders;
  /** The books this response is about (the gateway purges cached answers by them when a book is withdrawn). */
  readonly cacheTags: ResponseTags;
}

export type Ref = { id: string };
const ref = (id: string): Ref => ({ id });
const byId = (doc: { _id: string }): string => doc._id;

/** Anything about a book, or quoting it, carries the book's tag. */
const tagged = <T>(ctx: UgcContext, bookId: string, value: T): T => {
  ctx.cacheTags.add(bookTag(bookId));
  return value;
};
const anchorSelector = (a: AnchorFields) => ({ position: { start: a.start, end: a.end }, quote: { exact: a.exact, prefix: a.prefix, suffix: a.suffix } });
const selector = (a: AnchorFields, _: unknown, ctx: UgcContext) => tagged(ctx, a.bookId, anchorSelector(a));
const nullable = async <T, R>(value: Promise<T | null>, shape: (v: T) => R): Promise<R | null> => {
  const found = await value;
  return found === null ? null : shape(found);
};

/** A first page without `after` goes through the per-parent batch loader; later pages query directly. */
const firstPageOr = <T>(args: PageArgs, batched: (size: number) => Promise<T>, direct: () => Promise<T>): Promise<T> =>
  args.after ? direct() : batched(pageSize(args.first));

const CHANGE_TYPES = { SHELF: 'ShelfEntryChange', PROGRESS: 'ProgressChange', HIGHLIGHT: 'HighlightChange', NOTE: 'NoteChange', REVIEW: 'ReviewChange' } as const;
const changeFields = { book: (c: ChangeView) => ref(c.bookId) };

export const resolvers: Resolvers = {
  DateTime,
  Query: {
    note: (_: unknown, { id }, { loaders }: UgcContext) => loaders.note.load(id),
    highlight: (_: unknown, { id }, { loaders }: UgcContext) => loaders.highlight.load(id),
    readingProgressChange: (_: unknown, { seq }, { caller, services }: UgcContext) => progressChange(services, caller, seq),
    annotationChange: (_: unknown, { seq, bookId }, { caller, services }: UgcContext) => annotationChange(services, caller, seq, bookId),
    shelfChange: (_: unknown, { seq }, { caller, services }: UgcContext) => shelfChange(services, caller, seq),
    repairJob: (_: unknown, { bookId }, { caller, services }: UgcContext) => latestRepairJob(services.store, caller, bookId),
    repairJobUpdate: (_: unknown, { seq, bookId }, { caller, services }: UgcContext) => repairJobUpdate(services, caller, seq, bookId),
    publicNoteAddition: (_: unknown, { seq, paragraphId }, { caller, services }: UgcContext) => publicNoteAddition(services, caller, seq, paragraphId),
  },
  Mutation: {
    addToShelf: (_: unknown, args, { caller, services }: UgcContext) =>
      services.shelf.addToShelf(caller, args.bookId, { secret: args.secret ?? null }),
    removeFromShelf: (_: unknown, { bookId }, { caller, services }: UgcContext) => services.shelf.removeFromShelf(caller, bookId),
    updateShelfEntry: (_: unknown, args, { caller, services }: UgcContext) =>
      services.shelf.updateEntry(caller, args.bookId, args.input),
    updateProgress: (_: unknown, args, { caller, services }: UgcContext) =>
      services.shelf.updateProgress(caller, args.bookId, args.input),
    createHighlight: (_: unknown, { input }, { caller, services }: UgcContext) => services.annotations.createHighlight(caller, input),
    updateHighlight: (_: unknown, args, { caller, services }: UgcContext) =>
      services.annotations.updateHighlight(caller, args.id, args.input),
    deleteHighlight: (_: unknown, { id }, { caller, services }: UgcContext) => services.annotations.deleteHighlight(caller, id),
    createNote: (_: unknown, { input }, { caller, services }: UgcContext) => services.annotations.createNote(caller, input),
    updateNote: (_: unknown, args, { caller, services }: UgcContext) =>
      services.annotations.updateNote(caller, args.id, args.input),
    deleteNote: (_: unknown, { id }, { caller, services }: UgcContext) => services.annotations.deleteNote(caller, id),
    likeNote: (_: unknown, { id }, { caller, services }: UgcContext) => services.annotations.likeNote(caller, id, true),
    unlikeNote: (_: unknown, { id }, { caller, services }: UgcContext) => services.annotations.likeNote(caller, id, false),
    writeReview: (_: unknown, args, { caller, services }: UgcContext) => services.reviews.writeReview(caller, args.bookId, args.input),
    deleteReview: (_: unknown, { bookId }, { caller, services }: UgcContext) => services.reviews.deleteReview(caller, bookId),
    likeReview: (_: unknown, { id }, { caller, services }: UgcContext) => services.reviews.likeReview(caller, id, true),
    unlikeReview: (_: unknown, { id }, { caller, services }: UgcContext) => services.reviews.likeReview(caller, id, false),
  },
  User: {
    __resolveReference: (reference: Ref) => ref(reference.id),
    shelfCount: (user: Ref, _: unknown, { caller, services }: UgcContext) => services.shelf.count(caller, user.id),
    shelf: (user: Ref, args, { caller, services }: UgcContext) => services.shelf.list(caller, user.id, args),
    highlights: (user: Ref, args, { caller, services }: UgcContext) => services.annotations.listHighlights(caller, user.id, args),
    notes: (user: Ref, args, { caller, services }: UgcContext) => services.annotations.listNotes(caller, user.id, args),
    reviews: (user: Ref, args, { services }: UgcContext) => services.reviews.listByUser(user.id, args),
    readingStats: (user: Ref, { period }, { caller, services }: UgcContext) => services.shelf.readingStats(caller, user.id, period),
    annotationsExport: (user: Ref, _: unknown, { caller, services }: UgcContext) => nullable(exportAnnotations(services, caller, user.id), (doc) => JSON.stringify(doc)),
    changes: (user: Ref, args, { caller, services }: UgcContext) => listChanges(services, caller, user.id, args),
  },
  Book: {
    __resolveReference: (reference: Ref, ctx: UgcContext) => tagged(ctx, reference.id, ref(reference.id)),
    rating: async (book: Ref, _: unknown, { loaders }: UgcContext) => (await loaders.rating.load(book.id)) ?? { average: null, count: 0 },
    reviews: (book: Ref, args, { services, loaders }: UgcContext) =>
      firstPageOr(args, (size) => loaders.reviewsFirstPage.load(book.id, size), () => services.reviews.listByBook(book.id, args)),
    popularHighlights: (book: Ref, args, { loaders }: UgcContext) => loaders.popular.load(book.id, pageSize(args.first)),
    myHighlights: (book: Ref, args, { caller, services, loaders }: UgcContext) =>
      firstPageOr(args, (size) => loaders.myHighlightsFirstPage.load(book.id, size), () => services.annotations.myHighlights(caller, book.id, args)),
  },
  Chapter: {
    __resolveReference: (reference: Ref) => ref(reference.id),
    myHighlights: async (chapter: Ref, _: unknown, { loaders }: UgcContext) => (await loaders.chapterHighlights.load(chapter.id)) ?? [],
  },
  Paragraph: {
    __resolveReference: (reference: Ref) => ref(reference.id),
    publicNotes: (paragraph: Ref, args, { caller, services, loaders }: UgcContext) =>
      firstPageOr(args, (size) => loaders.publicNotesFirstPage.load(paragraph.id, size), () => services.annotations.publicNotes(caller, paragraph.id, args)),
  },
  ShelfEntry: {
    id: byId,
    book: (entry: ShelfEntryView) => ref(entry.bookId),
    progress: (entry: ShelfEntryView, _: unknown, { loaders }: UgcContext) => loaders.progress.load(entry._id),
  },
  ReadingProgressChange: {
    book: (c: ProgressChangeView) => ref(c.bookId),
  },
  AnnotationChange: {
    book: (c: AnnotationChangeView) => ref(c.bookId),
    highlight: (c: AnnotationChangeView, _: unknown, { loaders }: UgcContext) => (c.kind === 'HIGHLIGHT' && c.op !== 'DELETED' ? loaders.highlight.load(c.id) : null),
    note: (c: AnnotationChangeView, _: unknown, { loaders }: UgcContext) => (c.kind === 'NOTE' && c.op !== 'DELETED' ? loaders.note.load(c.id) : null),
  },
  ShelfChange: {
    book: (c: ShelfChangeView) => ref(c.bookId),
    entry: (c: ShelfChangeView, _: unknown, { caller, services }: UgcContext) => shelfEntryOf(services, caller, c),
  },
  Change: {
    __resolveType: (c: ChangeView) => CHANGE_TYPES[c.kind],
  },
  // The entity as it is now, through the viewer's loaders (a deleted one, or one not theirs: null).
  ShelfEntryChange: { ...changeFields, entry: (c: ChangeView, _: unknown, { loaders }: UgcContext) => (c.op === 'DELETED' ? null : loaders.shelfEntry.load(c.id)) },
  ProgressChange: { ...changeFields, progress: (c: ChangeView, _: unknown, { loaders }: UgcContext) => loaders.progress.load(c.id) },
  HighlightChange: { ...changeFields, highlight: (c: ChangeView, _: unknown, { loaders }: UgcContext) => (c.op === 'DELETED' ? null : loaders.highlight.load(c.id)) },
  NoteChange: { ...changeFields, note: (c: ChangeView, _: unknown, { loaders }: UgcContext) => (c.op === 'DELETED' ? null : loaders.note.load(c.id)) },
  ReviewChange: { ...changeFields, review: (c: ChangeView, _: unknown, { loaders }: UgcContext) => (c.op === 'DELETED' ? null : loaders.review.load(c.id)) },
  ReadingProgress: {
    book: (p: ProgressDoc) => ref(p.bookId),
    chapter: (p: ProgressDoc) => (p.chapterId ? ref(p.chapterId) : null),
  },
  ReadingStats: {
    topBooks: (stats: { topBooks: { bookId: string; seconds: number }[] }) => stats.topBooks.map((b) => ({ book: ref(b.bookId), seconds: b.seconds })),
  },
  Highlight: {
    id: byId,
    book: (h: HighlightDoc) => ref(h.bookId),
    chapter: (h: HighlightDoc) => ref(h.chapterId),
    paragraph: (h: HighlightDoc) => (h.paragraphId ? ref(h.paragraphId) : null),
    selector,
    quote: (h: HighlightDoc, _: unknown, ctx: UgcContext) => tagged(ctx, h.bookId, h.exact),
  },
  Note: {
    id: byId,
    author: (n: NoteDoc) => ref(n.userId),
    book: (n: NoteDoc) => ref(n.bookId),
    chapter: (n: NoteDoc) => ref(n.chapterId),
    paragraph: (n: NoteDoc) => (n.paragraphId ? ref(n.paragraphId) : null),
    highlight: (n: NoteDoc, _: unknown, { loaders }: UgcContext) => (n.highlightId ? loaders.highlight.load(n.highlightId) : null),
    selector,
    quote: (n: NoteDoc, _: unknown, ctx: UgcContext) => tagged(ctx, n.bookId, n.exact),
    likedByMe: (n: NoteDoc, _: unknown, { caller, loaders }: UgcContext) => (caller.userId ? loaders.liked.load(likeKey('NOTE', n._id, caller.userId)) : false),
  },
  Review: {
    id: byId,
    author: (r: ReviewDoc) => ref(r.userId),
    book: (r: ReviewDoc) => ref(r.bookId),
    likedByMe: (r: ReviewDoc, _: unknown, { caller, loaders }: UgcContext) => (caller.userId ? loaders.liked.load(likeKey('REVIEW', r._id, caller.userId)) : false),
  },
  PopularHighlight: {
    chapter: (p: PassageDoc) => ref(p.chapterId),
    selector: (p: PassageDoc, _: unknown, ctx: UgcContext) =>
      tagged(ctx, p.bookId, { position: { start: p.start, end: p.end }, quote: { exact: p.exact, prefix: '', suffix: '' } }),
    quote: (p: PassageDoc, _: unknown, ctx: UgcContext) => tagged(ctx, p.bookId, p.exact),
  },
  RepairJob: {
    id: byId,
    book: (j: RepairJobDoc) => ref(j.bookId),
    processed: (j: RepairJobDoc) => j.moved + j.unchanged + j.orphaned,
    durationMs: (j: RepairJobDoc) => (j.startedAt && j.finishedAt ? j.finishedAt.getTime() - j.startedAt.getTime() : null),
    interrupted: (j: RepairJobDoc, _: unknown, { services }: UgcContext) => isRepairInterrupted(services.store, j),
  },
};
