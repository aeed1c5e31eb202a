/**
 * Highlights and notes. A highlight is anchored the W3C Web Annotation way (position + quote
 * selectors) on the chapter text fetched from catalog; a note sits on a highlight or a range and
 * is PRIVATE (its author only) or PUBLIC. Every write checks ownership and bounds, and emits its
 * event in the same transaction.
 */
import { badInput, FolioError, forbidden, notFound } from '../../../lib/errors.js';
import { requireUser, type Caller } from '../../../lib/identity.js';
import { ObjectId } from '../../../lib/storage/index.js';
import type { Filter } from '../../../lib/storage/types.js';
import { describeAnchor, type TextAnchor } from '../anchoring/index.js';
import type { CatalogChapter } from '../catalogClient.js';
import { pageNewestFirst, type Page, type PageArgs } from '../../../lib/pagination.js';
import {
  collectionsOf,
  pairKey,
  type AnchorFields,
  type HighlightColor,
  type HighlightDoc,
  type HighlightStyle,
  type NoteDoc,
  type PassageDoc,
  type Visibility,
} from '../store.js';
import { checkEnum, checkId, checkText, requireReadable, type UgcDeps } from './common.js';
import { firstPagePerGroup } from './grouped.js';
import { deleteLikesOf, setLike } from './likes.js';

export const HIGHLIGHT_COLORS: readonly HighlightColor[] = ['YELLOW', 'GREEN', 'BLUE', 'PINK', 'PURPLE'];
export const HIGHLIGHT_STYLES: readonly HighlightStyle[] = ['HIGHLIGHT', 'UNDERLINE', 'SQUIGGLE'];
export const VISIBILITIES: readonly Visibility[] = ['PRIVATE', 'PUBLIC'];
export const MAX_NOTE_LENGTH = 5_000;
/** Per user and book; a reader who highlights more than this is a script. */
export const MAX_HIGHLIGHTS_PER_BOOK = 10_000;
export const MAX_NOTES_PER_BOOK = 10_000;
/** A chapter's own highlights are returned whole (the reader draws them all), up to this. */
export const MAX_CHAPTER_HIGHLIGHTS = 2_000;

export interface RangeInput {
  readonly chapterId: string;
  readonly start: number;
  readonly end: number;
}

export interface HighlightInput extends RangeInput {
  readonly color?: HighlightColor | null;
  readonly style?: HighlightStyle | null;
}

export interface NoteInput {
  /** A note on one of the caller's highlights (its anchor is copied)... */
  readonly highlightId?: string | null;
  /** ...or on a range of a chapter. */
  readonly range?: RangeInput | null;
  readonly text: string;
  readonly visibility?: Visibility | null;
}

/** Popular passages are counted per exact range of a chapter (chapter ids are per revision). */
export const passageKey = (a: Pick<AnchorFields, 'bookId' | 'chapterId' | 'start' | 'end'>): string => pairKey(a.bookId, a.chapterId, String(a.start), String(a.end));

/** The paragraph holding `offset`, from catalog's paragraph table. */
export function paragraphAt(chapter: Pick<CatalogChapter, 'paragraphs'>, offset: number): string | null {
  return chapter.paragraphs.find((p) => offset >= p.startOffset && offset < p.endOffset)?.id ?? null;
}

/** The stored anchor fields for `anchor` in `chapter` (its revision, position and paragraph). */
export function anchorFields(
  chapter: Pick<CatalogChapter, 'bookId' | 'revisionId' | 'id' | 'index' | 'paragraphs'>,
  anchor: TextAnchor,
): AnchorFields {
  return {
    bookId: chapter.bookId,
    revisionId: chapter.revisionId,
    chapterId: chapter.id,
    chapterIndex: chapter.index,
    paragraphId: paragraphAt(chapter, anchor.start),
    start: anchor.start,
    end: anchor.end,
    exact: anchor.exact,
    prefix: anchor.prefix,
    suffix: anchor.suffix,
    status: 'ACTIVE',
  };
}

const highlightEvent = (h: HighlightDoc): Record<string, unknown> => ({
  highlightId: h._id,
  userId: h.userId,
  bookId: h.bookId,
  chapterId: h.chapterId,
  quote: h.exact,
  createdAt: h.createdAt.toISOString(),
});

export const noteWrittenEvent = (n: NoteDoc): Record<string, unknown> => ({
  noteId: n._id,
  userId: n.userId,
  bookId: n.bookId,
  chapterId: n.chapterId,
  paragraphId: n.paragraphId,
  text: n.text,
  quote: n.exact,
  visibility: n.visibility,
  updatedAt: n.updatedAt.toISOString(),
});

/** A note is visible to its author, and to everyone when PUBLIC. */
export const canSeeNote = (note: NoteDoc, viewer: Caller): boolean => note.visibility === 'PUBLIC' || note.userId === viewer.userId;

export class AnnotationService {
  constructor(private readonly deps: UgcDeps) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** Validates a range against the chapter text from catalog and builds the anchor fields. */
  private async anchorFor(caller: Caller, range: RangeInput): Promise<AnchorFields> {
    const chapterId = checkId(range?.chapterId, 'chapterId');
    const chapter = await this.deps.chapters.load(chapterId);
    if (!chapter) throw notFound('Chapter');
    await requireReadable(this.deps.catalog, caller, chapter.bookId);
    return anchorFields(chapter, describeAnchor(chapter.text, chapter.id, range.start, range.end));
  }

  async createHighlight(caller: Caller, input: HighlightInput): Promise<HighlightDoc> {
    const userId = requireUser(caller);
    const color = input.color ? checkEnum(input.color, HIGHLIGHT_COLORS, 'color') : 'YELLOW';
    const style = input.style ? checkEnum(input.style, HIGHLIGHT_STYLES, 'style') : 'HIGHLIGHT';
    const anchor = await this.anchorFor(caller, input);
    if ((await this.deps.store.highlights.countDocuments({ userId, bookId: anchor.bookId })) >= MAX_HIGHLIGHTS_PER_BOOK) {
      throw new FolioError('CONFLICT', `At most ${MAX_HIGHLIGHTS_PER_BOOK} highlights per book.`);
    }
    const now = this.now();
    const doc: HighlightDoc = { _id: new ObjectId().toHexString(), userId, ...anchor, color, style, passageKey: passageKey(anchor), createdAt: now, updatedAt: now };
    await this.deps.outbox.publish(async (tx, emit) => {
      const c = collectionsOf(tx);
      await c.highlights.insertOne(doc);
      await c.passages.updateOne(
        { _id: doc.passageKey },
        { $inc: { count: 1 }, $setOnInsert: { bookId: doc.bookId, chapterId: doc.chapterId, start: doc.start, end: doc.end, exact: doc.exact } },
        { upsert: true },
      );
      await emit('HighlightCreated', highlightEvent(doc));
    });
    return doc;
  }

  async updateHighlight(caller: Caller, idInput: string, input: { color?: HighlightColor | null; style?: HighlightStyle | null }): Promise<HighlightDoc> {
    const own = await this.ownHighlight(caller, idInput);
    const set: Partial<HighlightDoc> = { updatedAt: this.now() };
    if (input.color) set.color = checkEnum(input.color, HIGHLIGHT_COLORS, 'color');
    if (input.style) set.style = checkEnum(input.style, HIGHLIGHT_STYLES, 'style');
    return (await this.deps.store.highlights.findOneAndUpdate({ _id: own._id, userId: own.userId }, { $set: set }, { returnDocument: 'after' })) ?? own;
  }

  /** Deletes one of the caller's highlights; notes on it keep their own anchor and become range notes. */
  async deleteHighlight(caller: Caller, idInput: string): Promise<boolean> {
    const own = await this.ownHighlight(caller, idInput);
    return this.deps.outbox.publish(async (tx, emit) => {
      const c = collectionsOf(tx);
      const removed = await c.highlights.deleteOne({ _id: own._id, userId: own.userId });
      if (removed.deletedCount !== 1) return false;
      if (own.status === 'ACTIVE') await c.passages.updateOne({ _id: own.passageKey }, { $inc: { count: -1 } });
      await c.notes.updateMany({ highlightId: own._id }, { $set: { highlightId: null } });
      await emit('HighlightDeleted', { highlightId: own._id, userId: own.userId });
      return true;
    });
  }

  /** Someone else's highlight is NOT_FOUND: highlights are private, their existence too. */
  private async ownHighlight(caller: Caller, idInput: string): Promise<HighlightDoc> {
    const userId = requireUser(caller);
    const doc = await this.deps.store.highlights.findOne({ _id: checkId(idInput, 'id') });
    if (!doc || doc.userId !== userId) throw notFound('Highlight');
    return doc;
  }

  async highlightsByIds(ids: readonly string[]): Promise<Map<string, HighlightDoc>> {
    const docs = await this.deps.store.highlights.find({ _id: { $in: [...ids] } }).toArray();
    return new Map(docs.map((d) => [d._id, d]));
  }

  /** The caller's highlights, newest first, optionally in one book. */
  async listHighlights(userId: string, args: PageArgs & { bookId?: string | null }): Promise<Page<HighlightDoc>> {
    const filter: Filter<HighlightDoc> = { userId };
    if (args.bookId) filter.bookId = checkId(args.bookId, 'bookId');
    return pageNewestFirst(this.deps.store.highlights, filter, args);
  }

  /** First pages of the user's highlights in many books at once (Book.myHighlights for a list of books). */
  highlightsFirstPageByBook(userId: string, bookIds: readonly string[], size: number): Promise<Map<string, Page<HighlightDoc>>> {
    return firstPagePerGroup(this.deps.store.highlights, 'bookId', bookIds, { userId }, size);
  }

  /** The user's highlights in each of these chapters, in text order. */
  async highlightsByChapters(userId: string, chapterIds: readonly string[]): Promise<Map<string, HighlightDoc[]>> {
    const docs = await this.deps.store.highlights
      .find({ userId, chapterId: { $in: [...chapterIds] } })
      .sort({ chapterId: 1, start: 1 })
      .limit(MAX_CHAPTER_HIGHLIGHTS * chapterIds.length)
      .toArray();
    const byChapter = new Map<string, HighlightDoc[]>(chapterIds.map((id) => [id, []]));
    for (const d of docs) {
      const list = byChapter.get(d.chapterId);
      if (list && list.length < MAX_CHAPTER_HIGHLIGHTS) list.push(d);
    }
    return byChapter;
  }

  // ---- notes ----

  async createNote(caller: Caller, input: NoteInput): Promise<NoteDoc> {
    const userId = requireUser(caller);
    const text = checkText(input.text, 'text', { min: 1, max: MAX_NOTE_LENGTH });
    const visibility = input.visibility ? checkEnum(input.visibility, VISIBILITIES, 'visibility') : 'PRIVATE';
    let anchor: AnchorFields;
    let highlightId: string | null = null;
    if (input.highlightId) {
      if (input.range) throw badInput('Give either highlightId or range, not both.', 'range');
      const h = await this.ownHighlight(caller, input.highlightId);
      highlightId = h._id;
      anchor = {
        bookId: h.bookId, revisionId: h.revisionId, chapterId: h.chapterId, chapterIndex: h.chapterIndex, paragraphId: h.paragraphId,
        start: h.start, end: h.end, exact: h.exact, prefix: h.prefix, suffix: h.suffix, status: h.status,
      };
    } else if (input.range) {
      anchor = await this.anchorFor(caller, input.range);
    } else {
      throw badInput('A note needs a highlightId or a range.', 'highlightId');
    }
    if ((await this.deps.store.notes.countDocuments({ userId, bookId: anchor.bookId })) >= MAX_NOTES_PER_BOOK) {
      throw new FolioError('CONFLICT', `At most ${MAX_NOTES_PER_BOOK} notes per book.`);
    }
    const now = this.now();
    const doc: NoteDoc = { _id: new ObjectId().toHexString(), userId, highlightId, ...anchor, text, visibility, likeCount: 0, createdAt: now, updatedAt: now };
    await this.deps.outbox.publish(async (tx, emit) => {
      await collectionsOf(tx).notes.insertOne(doc);
      await emit('NoteWritten', noteWrittenEvent(doc));
    });
    return doc;
  }

  async updateNote(caller: Caller, idInput: string, input: { text?: string | null; visibility?: Visibility | null }): Promise<NoteDoc> {
    const own = await this.ownNote(caller, idInput);
    const set: Partial<NoteDoc> = { updatedAt: this.now() };
    if (input.text !== undefined && input.text !== null) set.text = checkText(input.text, 'text', { min: 1, max: MAX_NOTE_LENGTH });
    if (input.visibility) set.visibility = checkEnum(input.visibility, VISIBILITIES, 'visibility');
    return this.deps.outbox.publish(async (tx, emit) => {
      const updated = await collectionsOf(tx).notes.findOneAndUpdate({ _id: own._id, userId: own.userId }, { $set: set }, { returnDocument: 'after' });
      if (!updated) throw notFound('Note');
      await emit('NoteWritten', noteWrittenEvent(updated));
      return updated;
    });
  }

  async deleteNote(caller: Caller, idInput: string): Promise<boolean> {
    const own = await this.ownNote(caller, idInput);
    return this.deps.outbox.publish(async (tx, emit) => {
      const removed = await collectionsOf(tx).notes.deleteOne({ _id: own._id, userId: own.userId });
      if (removed.deletedCount !== 1) return false;
      await deleteLikesOf(tx, 'NOTE', own._id);
      await emit('NoteDeleted', { noteId: own._id, userId: own.userId });
      return true;
    });
  }

  /** A public note of someone else: FORBIDDEN to edit; a private one: NOT_FOUND (its existence is private too). */
  private async ownNote(caller: Caller, idInput: string): Promise<NoteDoc> {
    const userId = requireUser(caller);
    const doc = await this.deps.store.notes.findOne({ _id: checkId(idInput, 'id') });
    if (!doc || !canSeeNote(doc, caller)) throw notFound('Note');
    if (doc.userId !== userId) throw forbidden('You can change only your own notes.');
    return doc;
  }

  /** Notes by id, already filtered to what `viewer` may see. */
  async notesByIds(viewer: Caller, ids: readonly string[]): Promise<Map<string, NoteDoc>> {
    const docs = await this.deps.store.notes.find({ _id: { $in: [...ids] } }).toArray();
    return new Map(docs.filter((d) => canSeeNote(d, viewer)).map((d) => [d._id, d]));
  }

  /** `ownerId`'s notes as `viewer` may see them: all for the author, PUBLIC ones for everyone else. */
  async listNotes(viewer: Caller, ownerId: string, args: PageArgs & { bookId?: string | null }): Promise<Page<NoteDoc>> {
    const filter: Filter<NoteDoc> = { userId: ownerId };
    if (viewer.userId !== ownerId) filter.visibility = 'PUBLIC';
    if (args.bookId) filter.bookId = checkId(args.bookId, 'bookId');
    return pageNewestFirst(this.deps.store.notes, filter, args);
  }

  /** Public, placed notes on one paragraph, newest first (a later page). */
  async publicNotes(paragraphId: string, args: PageArgs): Promise<Page<NoteDoc>> {
    return pageNewestFirst(this.deps.store.notes, { paragraphId, visibility: 'PUBLIC', status: 'ACTIVE' }, args, { withTotal: false });
  }

  /** The first page of public notes for many paragraphs in one query. */
  publicNotesFirstPage(paragraphIds: readonly string[], size: number): Promise<Map<string, Page<NoteDoc>>> {
    return firstPagePerGroup(this.deps.store.notes, 'paragraphId', paragraphIds, { visibility: 'PUBLIC', status: 'ACTIVE' }, size);
  }

  async likeNote(caller: Caller, idInput: string, liked: boolean): Promise<NoteDoc> {
    const userId = requireUser(caller);
    const note = await this.deps.store.notes.findOne({ _id: checkId(idInput, 'id') });
    if (!note || !canSeeNote(note, caller)) throw notFound('Note');
    if (note.visibility !== 'PUBLIC') throw badInput('Only public notes can be liked.', 'id');
    await setLike(this.deps.store, 'NOTE', note._id, userId, liked);
    return (await this.deps.store.notes.findOne({ _id: note._id })) ?? note;
  }

  // ---- popular passages ----

  /** The most-highlighted passages of each book, from the maintained counts (no scan of highlights). */
  popularByBooks(bookIds: readonly string[], size: number): Promise<Map<string, { items: readonly PassageDoc[] }>> {
    return firstPagePerGroup(this.deps.store.passages, 'bookId', bookIds, { count: { $gt: 0 } }, size, { count: -1, _id: 1 });
  }
}
