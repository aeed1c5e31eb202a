/**
 * UGC's access policy: every read and write of shelves, progress, highlights, notes and reviews is
 * decided here (the model is Outline's `server/policies/`), never in resolvers.
 *
 * - `can(viewer, action, subject)` answers yes/no for what the documents themselves decide
 *   (ownership, visibility, secret shelf entries); `authorize` throws the error a client sees.
 * - Book content (a chapter, a paragraph, a book) is usable for highlights, notes, progress and
 *   reviews exactly when catalog would show it to the viewer: one batched catalog check
 *   (`CatalogApi.access`, catalog's own policy), so the two services can never disagree.
 * - "Not there" and "not yours / not readable" are the same error, with the same message, for
 *   every kind of id: a draft chapter, an unlicensed book, another user's highlight and an id that
 *   never existed are indistinguishable. Nothing about unreadable content (not even a chapter's
 *   length) is revealed, because the check runs before any range is looked at.
 */
import { FolioError } from '../../lib/errors.js';
import { requireRole, type Caller } from '../../lib/identity.js';
import type { AccessAnswer, CatalogApi, ReadableChapter } from './catalogClient.js';
import type { Visibility } from './store.js';

export const NOT_AVAILABLE_MESSAGE = 'Not found, or not available to you.';
/** The one refusal for anything the viewer may not see or change, and for ids that do not exist. */
export const notAvailable = (): FolioError => new FolioError('NOT_FOUND', NOT_AVAILABLE_MESSAGE);

/**
 * read: see it. write: change or delete it. like: like or unlike it. readActivity: see when and
 * how much someone reads (progress, lastReadAt, finishedAt, reading stats, shelf size, exports).
 * readChanges: follow someone's change feed (me.changes, catch-up, subscriptions): the owner only.
 */
export type UgcAction = 'read' | 'write' | 'like' | 'readActivity' | 'readChanges';

export type UgcSubject =
  /** Highlights are private to their author, their existence too. */
  | { readonly type: 'Highlight'; readonly userId: string }
  /** `contentReadable`: catalog lets the viewer read the chapter the note quotes. */
  | { readonly type: 'Note'; readonly userId: string; readonly visibility: Visibility; readonly contentReadable: boolean }
  | { readonly type: 'ShelfEntry'; readonly userId: string; readonly secret: boolean }
  /** A user's own data as a whole (their highlights, reading activity, export). */
  | { readonly type: 'User'; readonly id: string }
  | { readonly type: 'Review'; readonly userId: string }
  /** Catalog's answer for one book, chapter or paragraph. */
  | { readonly type: 'Content'; readonly readable: boolean }
  | { readonly type: 'RepairJob' };

const isSelf = (viewer: Caller, userId: string): boolean => viewer.userId !== null && viewer.userId === userId;
const isStaff = (viewer: Caller): boolean => viewer.roles.includes('EDITOR') || viewer.roles.includes('ADMIN');

export function can(viewer: Caller, action: UgcAction, subject: UgcSubject): boolean {
  if ((action === 'write' || action === 'like') && viewer.userId === null) return false;
  switch (subject.type) {
    case 'Highlight':
      return action !== 'like' && isSelf(viewer, subject.userId);
    case 'Note': {
      const visible = isSelf(viewer, subject.userId) || (subject.visibility === 'PUBLIC' && subject.contentReadable);
      if (action === 'read') return visible;
      if (action === 'like') return visible && subject.visibility === 'PUBLIC';
      return action === 'write' && isSelf(viewer, subject.userId);
    }
    case 'ShelfEntry':
      if (action === 'read') return isSelf(viewer, subject.userId) || !subject.secret;
      return isSelf(viewer, subject.userId);
    case 'User':
      // readChanges, readActivity, write: the owner only.
      return action === 'read' || isSelf(viewer, subject.id);
    case 'Review':
      if (action === 'read') return true;
      if (action === 'like') return viewer.userId !== null;
      return isSelf(viewer, subject.userId);
    case 'Content':
      // Annotating, shelving or reviewing a book needs the same right as reading it.
      return subject.readable && (action === 'read' || viewer.userId !== null);
    case 'RepairJob':
      return isStaff(viewer);
  }
}

/**
 * `can`, or the error a client sees: UNAUTHENTICATED when signing in is what is missing, FORBIDDEN
 * for staff-only things, and otherwise the one NOT_FOUND (also for a subject that does not exist).
 */
export function authorize(viewer: Caller, action: UgcAction, subject: UgcSubject | null | undefined): void {
  if (action === 'write' || action === 'like') requireSignedIn(viewer);
  if (subject?.type === 'RepairJob') {
    requireRole(viewer, 'EDITOR', 'ADMIN');
    return;
  }
  if (!subject || !can(viewer, action, subject)) throw notAvailable();
}

export function requireSignedIn(viewer: Caller): string {
  if (!viewer.userId) throw new FolioError('UNAUTHENTICATED', 'Sign in first.');
  return viewer.userId;
}

/** Subjects from stored documents (only the fields the rules read). */
export const subjects = {
  highlight: (doc: { userId: string } | null | undefined): UgcSubject | null => (doc ? { type: 'Highlight', userId: doc.userId } : null),
  note: (doc: { userId: string; visibility: Visibility } | null | undefined, contentReadable: boolean): UgcSubject | null =>
    doc ? { type: 'Note', userId: doc.userId, visibility: doc.visibility, contentReadable } : null,
  shelfEntry: (doc: { userId: string; secret: boolean }): UgcSubject => ({ type: 'ShelfEntry', userId: doc.userId, secret: doc.secret }),
  user: (id: string): UgcSubject => ({ type: 'User', id }),
  review: (doc: { userId: string } | null | undefined): UgcSubject | null => (doc ? { type: 'Review', userId: doc.userId } : null),
  content: (readable: boolean): UgcSubject => ({ type: 'Content', readable }),
  repairJob: { type: 'RepairJob' } as UgcSubject,
} as const;

// ---- content, as catalog decides it ----------------------------------------------------------

/**
 * The chapter, when the viewer may annotate it (and, when `bookId` is given, it belongs to that
 * book); the one NOT_FOUND otherwise. Asked before the chapter's text or length is looked at.
 */
export async function authorizeChapter(catalog: CatalogApi, viewer: Caller, chapterId: string, bookId?: string): Promise<ReadableChapter> {
  requireSignedIn(viewer);
  const answer = await catalog.access(viewer, { chapterIds: [chapterId], ...(bookId ? { bookIds: [bookId] } : {}) });
  const chapter = answer.chapters.get(chapterId);
  const bookOk = bookId === undefined || (answer.books.has(bookId) && chapter?.bookId === bookId);
  authorize(viewer, 'write', subjects.content(chapter !== undefined && bookOk));
  return chapter!;
}

/** The viewer may shelve, review or report progress on the book (catalog lets them read it). */
export async function authorizeBook(catalog: CatalogApi, viewer: Caller, bookId: string): Promise<void> {
  requireSignedIn(viewer);
  const answer = await catalog.access(viewer, { bookIds: [bookId] });
  authorize(viewer, 'write', subjects.content(answer.books.has(bookId)));
}

/** Which of these chapters the viewer may read (one catalog call). */
export async function readableChapters(catalog: CatalogApi, viewer: Caller, chapterIds: readonly string[]): Promise<AccessAnswer['chapters']> {
  if (chapterIds.length === 0) return new Map();
  return (await catalog.access(viewer, { chapterIds })).chapters;
}

/** Which of these paragraphs the viewer may read (one catalog call). */
export async function readableParagraphs(catalog: CatalogApi, viewer: Caller, paragraphIds: readonly string[]): Promise<ReadonlySet<string>> {
  if (paragraphIds.length === 0) return new Set();
  return new Set((await catalog.access(viewer, { paragraphIds })).paragraphs.keys());
}

/**
 * The notes the viewer may read: their own, and public ones on content catalog shows the viewer
 * (a public note quotes the book, so it is content too). One catalog call for the lot.
 */
export async function visibleNotes<T extends { userId: string; visibility: Visibility; chapterId: string }>(
  catalog: CatalogApi,
  viewer: Caller,
  notes: readonly T[],
): Promise<T[]> {
  const others = notes.filter((n) => !isSelf(viewer, n.userId) && n.visibility === 'PUBLIC');
  const readable = await readableChapters(catalog, viewer, [...new Set(others.map((n) => n.chapterId))]);
  return notes.filter((n) => can(viewer, 'read', subjects.note(n, readable.has(n.chapterId))!));
}

/**
 * Popular passages are public aggregates (cached and shown to anonymous callers), so they are
 * checked as the licence sees the viewer without staff rights, and only in the book's current
 * published revision: a staff member's highlight on a draft never becomes public text.
 */
export async function popularPassageChapters(catalog: CatalogApi, viewer: Caller, chapterIds: readonly string[]): Promise<ReadonlySet<string>> {
  const asPublic: Caller = { ...viewer, roles: [] };
  const readable = await readableChapters(catalog, asPublic, chapterIds);
  return new Set([...readable.values()].filter((c) => c.current).map((c) => c.id));
}

/** At least this many distinct readers must have highlighted a passage before it is shown to anyone. */
export const popularEnough = (readers: number, minReaders: number): boolean => readers >= minReaders;
