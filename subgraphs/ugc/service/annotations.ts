/**
 * Highlights and notes. A highlight is anchored the W3C Web Annotation way (position + quote
 * selectors) on the chapter text fetched from catalog; a note sits on a highlight or a range and
 * is PRIVATE (its author only) or PUBLIC. Every method takes the viewer and asks ../policy.ts;
 * every write checks bounds and emits its event in the same transaction.
 */
import { badInput, FolioError } from '../../../lib/errors.js';
import type { Caller } from '../../../lib/identity.js';
import { cleanText } from '../../../lib/text.js';
import { ObjectId } from '../../../lib/storage/index.js';
import type { Filter } from '../../../lib/storage/types.js';
import { describeAnchor, type TextAnchor } from '../anchoring/index.js';
import type { CatalogChapter } from '../catalogClient.js';
import { emptyConnection, filterNodes, nodesOf, pageNewestFirst, type Connection, type PageArgs } from '../../../lib/pagination.js';
import {
  authorize,
  authorizeChapter,
  can,
  notAvailable,
  popularEnough,
  popularPassageChapters,
  readableParagraphs,
  requireSignedIn,
  subjects,
  visibleNotes,
} from '../policy.js';
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
import { checkClientTime, checkId, type UgcDeps } from './common.js';
import { firstPagePerGroup } from './grouped.js';
import { deleteLikesOf, setLike } from './likes.js';

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

/**
 * Highlight and note edits are last-write-wins per id by the device's `clientTime` (at most
 * MAX_CLOCK_SKEW_MS ahead of the server), compared only with other devices' clocks: an edit without
 * one (and creation) stores none, applies at once, and any later timed edit wins over it.
 */
function editTime(clientTime: Date | null | undefined, now: Date): Date | null {
  return clientTime === null || clientTime === undefined ? null : checkClientTime(clientTime, now);
}

/** The filter an edit made at `clientTime` needs to win: the stored edit is not newer (or untimed). */
function notNewerThan<T extends { clientTime?: Date | null }>(clientTime: Date | null): Filter<T> {
  return (clientTime === null ? {} : { $or: [{ clientTime: { $lte: clientTime } }, { clientTime: null }] }) as Filter<T>;
}

/**
 * An edit that lost: CONFLICT carrying the winning (stored) version's clock, so the device keeps that
 * one (it also arrives through me.changes and subscriptions); gone meanwhile: the one NOT_FOUND.
 */
function lostEdit<T extends { _id: string; clientTime?: Date | null; updatedAt: Date }>(current: T | null, fallback: T | null): T {
  if (!current) {
    if (fallback) return fallback;
    throw notAvailable();
  }
  throw new FolioError('CONFLICT', 'A newer edit from another device is stored; this one was not applied.', {
    details: { current: { id: current._id, clientTime: current.clientTime?.toISOString() ?? null, updatedAt: current.updatedAt.toISOString() } },
  });
}

const highlightEvent = (h: HighlightDoc): Record<string, unknown> => ({
  highlightId: h._id,
  userId: h.userId,
  bookId: h.bookId,
  chapterId: h.chapterId,
  paragraphId: h.paragraphId,
  quote: h.exact,
  createdAt: h.createdAt.toISOString(),
});

/**
 * `becamePublic`: this write made the note public (created PUBLIC, or turned from PRIVATE to PUBLIC):
 * what `publicNoteAdded` delivers. Edits of a public note and re-anchoring say false.
 */
export const noteWrittenEvent = (n: NoteDoc, becamePublic = false): Record<string, unknown> => ({
  noteId: n._id,
  userId: n.userId,
  bookId: n.bookId,
  chapterId: n.chapterId,
  paragraphId: n.paragraphId,
  text: n.text,
  quote: n.exact,
  visibility: n.visibility,
  becamePublic: becamePublic && n.visibility === 'PUBLIC',
  updatedAt: n.updatedAt.toISOString(),
});

/** Candidates read per book for popularHighlights beyond the page, so passages the viewer may not see do not empty it. */
const POPULAR_SLACK = 20;

export class AnnotationService {
  constructor(private readonly deps: UgcDeps) {}

  /**
   * Validates a range against the chapter text from catalog and builds the anchor fields. Catalog's
   * access check comes first, so a chapter the viewer may not read gives the same error as one that
   * does not exist, and its text (or length, in a range error) is never looked at.
   */
  private async anchorFor(viewer: Caller, range: RangeInput): Promise<AnchorFields> {
    const chapterId = checkId(range?.chapterId, 'chapterId');
    const readable = await authorizeChapter(this.deps.catalog, viewer, chapterId);
    const chapter = await this.deps.chapters.load(chapterId);
    if (!chapter || chapter.bookId !== readable.bookId) throw notAvailable();
    return anchorFields(chapter, describeAnchor(chapter.text, chapter.id, range.start, range.end));
  }

  async createHighlight(caller: Caller, input: HighlightInput): Promise<HighlightDoc> {
    const userId = requireSignedIn(caller);
    // Colours, styles and visibilities arrive as GraphQL enum values, already validated.
    const color = input.color ?? 'YELLOW';
    const style = input.style ?? 'HIGHLIGHT';
    const anchor = await this.anchorFor(caller, input);
    if ((await this.deps.store.highlights.countDocuments({ userId, bookId: anchor.bookId })) >= MAX_HIGHLIGHTS_PER_BOOK) {
      throw new FolioError('CONFLICT', `At most ${MAX_HIGHLIGHTS_PER_BOOK} highlights per book.`);
    }
    const now = this.deps.now();
    const doc: HighlightDoc = { _id: new ObjectId().toHexString(), userId, ...anchor, color, style, passageKey: passageKey(anchor), createdAt: now, updatedAt: now };
    await this.deps.outbox.publish(async (tx, emit) => {
      const c = collectionsOf(tx);
      await c.highlights.insertOne(doc);
      await countPassage(c, doc, +1);
      await emit('HighlightCreated', highlightEvent(doc));
    });
    return doc;
  }

  /** Per highlight the newest edit wins (`clientTime`); an older one answers CONFLICT (lastWriteWins). */
  async updateHighlight(caller: Caller, idInput: string, input: { color?: HighlightColor | null; style?: HighlightStyle | null; clientTime?: Date | null }): Promise<HighlightDoc> {
    const own = await this.ownHighlight(caller, idInput);
    const now = this.deps.now();
    const clientTime = editTime(input.clientTime, now);
    const set: Partial<HighlightDoc> = { updatedAt: now, clientTime };
    if (input.color) set.color = input.color;
    if (input.style) set.style = input.style;
    return this.deps.outbox.publish(async (tx, emit) => {
      const { highlights } = collectionsOf(tx);
      const updated = await highlights.findOneAndUpdate({ _id: own._id, userId: own.userId, ...notNewerThan<HighlightDoc>(clientTime) }, { $set: set }, { returnDocument: 'after' });
      if (!updated) return lostEdit(await highlights.findOne({ _id: own._id }), own);
      await emit('HighlightUpdated', highlightEvent(updated));
      return updated;
    });
  }

  /** Deletes one of the caller's highlights; notes on it keep their own anchor and become range notes. */
  async deleteHighlight(caller: Caller, idInput: string): Promise<boolean> {
    const own = await this.ownHighlight(caller, idInput);
    return this.deps.outbox.publish(async (tx, emit) => {
      const c = collectionsOf(tx);
      const removed = await c.highlights.deleteOne({ _id: own._id, userId: own.userId });
      if (removed.deletedCount !== 1) return false;
      if (own.status === 'ACTIVE') await countPassage(c, own, -1);
      await c.notes.updateMany({ highlightId: own._id }, { $set: { highlightId: null } });
      await emit('HighlightDeleted', { highlightId: own._id, userId: own.userId, bookId: own.bookId });
      return true;
    });
  }

  /** Someone else's highlight is the one NOT_FOUND: highlights are private, their existence too. */
  private async ownHighlight(caller: Caller, idInput: string): Promise<HighlightDoc> {
    requireSignedIn(caller);
    const doc = await this.deps.store.highlights.findOne({ _id: checkId(idInput, 'id') });
    authorize(caller, 'write', subjects.highlight(doc));
    return doc!;
  }

  /** Highlights by id, only those the viewer may see (their own). */
  async highlightsByIds(viewer: Caller, ids: readonly string[]): Promise<Map<string, HighlightDoc>> {
    if (!viewer.userId) return new Map();
    const docs = await this.deps.store.highlights.find({ _id: { $in: [...ids] }, userId: viewer.userId }).toArray();
    return new Map(docs.filter((d) => can(viewer, 'read', subjects.highlight(d)!)).map((d) => [d._id, d]));
  }

  /** `ownerId`'s highlights, newest first, optionally in one book; null for anyone but the owner. */
  async listHighlights(viewer: Caller, ownerId: string, args: PageArgs & { bookId?: string | null }): Promise<Connection<HighlightDoc> | null> {
    if (!can(viewer, 'read', { type: 'Highlight', userId: ownerId })) return null;
    const filter: Filter<HighlightDoc> = { userId: ownerId };
    if (args.bookId) filter.bookId = checkId(args.bookId, 'bookId');
    return pageNewestFirst(this.deps.store.highlights, filter, args);
  }

  /** The viewer's own highlights in one book (Book.myHighlights): empty when signed out. */
  async myHighlights(viewer: Caller, bookId: string, args: PageArgs): Promise<Connection<HighlightDoc>> {
    return viewer.userId ? ((await this.listHighlights(viewer, viewer.userId, { ...args, bookId })) ?? emptyConnection()) : emptyConnection();
  }

  /** First pages of the viewer's highlights in many books at once (Book.myHighlights for a list of books). */
  async highlightsFirstPageByBook(viewer: Caller, bookIds: readonly string[], size: number): Promise<Map<string, Connection<HighlightDoc>>> {
    if (!viewer.userId) return new Map(bookIds.map((id) => [id, emptyConnection<HighlightDoc>()]));
    return firstPagePerGroup(this.deps.store.highlights, 'bookId', bookIds, { userId: viewer.userId }, size);
  }

  /** The viewer's highlights in each of these chapters, in text order (none when signed out). */
  async highlightsByChapters(viewer: Caller, chapterIds: readonly string[]): Promise<Map<string, HighlightDoc[]>> {
    const userId = viewer.userId;
    if (!userId) return new Map(chapterIds.map((id) => [id, []]));
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
    const userId = requireSignedIn(caller);
    const text = cleanText(input.text, 'text', { max: MAX_NOTE_LENGTH });
    const visibility = input.visibility ?? 'PRIVATE';
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
    const now = this.deps.now();
    const doc: NoteDoc = { _id: new ObjectId().toHexString(), userId, highlightId, ...anchor, text, visibility, likeCount: 0, createdAt: now, updatedAt: now };
    await this.deps.outbox.publish(async (tx, emit) => {
      await collectionsOf(tx).notes.insertOne(doc);
      await emit('NoteWritten', { ...noteWrittenEvent(doc, doc.visibility === 'PUBLIC'), op: 'CREATED' });
    });
    return doc;
  }

  /** Per note the newest edit wins (`clientTime`); an older one answers CONFLICT (lastWriteWins). */
  async updateNote(caller: Caller, idInput: string, input: { text?: string | null; visibility?: Visibility | null; clientTime?: Date | null }): Promise<NoteDoc> {
    const own = await this.ownNote(caller, idInput);
    const now = this.deps.now();
    const clientTime = editTime(input.clientTime, now);
    const set: Partial<NoteDoc> = { updatedAt: now, clientTime };
    if (input.text !== undefined && input.text !== null) set.text = cleanText(input.text, 'text', { max: MAX_NOTE_LENGTH });
    if (input.visibility) set.visibility = input.visibility;
    return this.deps.outbox.publish(async (tx, emit) => {
      const { notes } = collectionsOf(tx);
      const updated = await notes.findOneAndUpdate({ _id: own._id, userId: own.userId, ...notNewerThan<NoteDoc>(clientTime) }, { $set: set }, { returnDocument: 'after' });
      if (!updated) return lostEdit(await notes.findOne({ _id: own._id }), null);
      await emit('NoteWritten', noteWrittenEvent(updated, own.visibility !== 'PUBLIC'));
      return updated;
    });
  }

  async deleteNote(caller: Caller, idInput: string): Promise<boolean> {
    const own = await this.ownNote(caller, idInput);
    return this.deps.outbox.publish(async (tx, emit) => {
      const removed = await collectionsOf(tx).notes.deleteOne({ _id: own._id, userId: own.userId });
      if (removed.deletedCount !== 1) return false;
      await deleteLikesOf(tx, 'NOTE', own._id);
      await emit('NoteDeleted', { noteId: own._id, userId: own.userId, bookId: own.bookId });
      return true;
    });
  }

  /** Someone else's note, public or not, is the one NOT_FOUND: only the author changes a note. */
  private async ownNote(caller: Caller, idInput: string): Promise<NoteDoc> {
    requireSignedIn(caller);
    const doc = await this.deps.store.notes.findOne({ _id: checkId(idInput, 'id') });
    authorize(caller, 'write', subjects.note(doc, false));
    return doc!;
  }

  /** Notes by id, only those the viewer may see (one catalog check for the lot). */
  async notesByIds(viewer: Caller, ids: readonly string[]): Promise<Map<string, NoteDoc>> {
    const docs = await this.deps.store.notes.find({ _id: { $in: [...ids] } }).toArray();
    return new Map((await visibleNotes(this.deps.catalog, viewer, docs)).map((d) => [d._id, d]));
  }

  /**
   * `ownerId`'s notes as `viewer` may see them: all for the author; for anyone else the PUBLIC ones
   * on content catalog shows them (totalCount counts the public ones, readable or not).
   */
  async listNotes(viewer: Caller, ownerId: string, args: PageArgs & { bookId?: string | null }): Promise<Connection<NoteDoc>> {
    const filter: Filter<NoteDoc> = { userId: ownerId };
    if (!can(viewer, 'read', { type: 'Note', userId: ownerId, visibility: 'PRIVATE', contentReadable: false })) filter.visibility = 'PUBLIC';
    if (args.bookId) filter.bookId = checkId(args.bookId, 'bookId');
    const page = await pageNewestFirst(this.deps.store.notes, filter, args);
    const visible = new Set(await visibleNotes(this.deps.catalog, viewer, nodesOf(page)));
    return filterNodes(page, (n) => visible.has(n));
  }

  /** Public, placed notes on one paragraph, newest first (a later page); empty when the viewer may not read the paragraph. */
  async publicNotes(viewer: Caller, paragraphId: string, args: PageArgs): Promise<Connection<NoteDoc>> {
    if (!(await readableParagraphs(this.deps.catalog, viewer, [paragraphId])).has(paragraphId)) return emptyConnection();
    return pageNewestFirst(this.deps.store.notes, { paragraphId, visibility: 'PUBLIC', status: 'ACTIVE' }, args, { withTotal: false });
  }

  /** The first page of public notes for many paragraphs in one query, for the paragraphs the viewer may read. */
  async publicNotesFirstPage(viewer: Caller, paragraphIds: readonly string[], size: number): Promise<Map<string, Connection<NoteDoc>>> {
    const readable = await readableParagraphs(this.deps.catalog, viewer, paragraphIds);
    const pages = await firstPagePerGroup(this.deps.store.notes, 'paragraphId', [...readable], { visibility: 'PUBLIC', status: 'ACTIVE' }, size);
    return new Map(paragraphIds.map((id) => [id, pages.get(id) ?? emptyConnection<NoteDoc>()]));
  }

  async likeNote(caller: Caller, idInput: string, liked: boolean): Promise<NoteDoc> {
    const userId = requireSignedIn(caller);
    const doc = await this.deps.store.notes.findOne({ _id: checkId(idInput, 'id') });
    const [note] = doc ? await visibleNotes(this.deps.catalog, caller, [doc]) : [];
    authorize(caller, 'read', note ? subjects.note(note, true) : null);
    if (note!.visibility !== 'PUBLIC') throw badInput('Only public notes can be liked.', 'id');
    await setLike(this.deps.store, 'NOTE', note!._id, userId, liked, this.deps.now());
    return (await this.deps.store.notes.findOne({ _id: note!._id })) ?? note!;
  }

  // ---- popular passages ----

  /**
   * The passages of each book that most distinct readers highlighted, from the maintained counts
   * (no scan of highlights): only with at least `popularMinReaders` readers, and only in the book's
   * current published revision as catalog shows it to the viewer without staff rights.
   */
  async popularByBooks(viewer: Caller, bookIds: readonly string[], size: number): Promise<Map<string, PassageDoc[]>> {
    const min = this.deps.popularMinReaders;
    const pages = await firstPagePerGroup(this.deps.store.passages, 'bookId', bookIds, { readers: { $gte: min } }, size + POPULAR_SLACK, { readers: -1, count: -1, _id: 1 });
    const candidates = [...pages.values()].flatMap(nodesOf);
    const shown = await popularPassageChapters(this.deps.catalog, viewer, [...new Set(candidates.map((p) => p.chapterId))]);
    return new Map(
      bookIds.map((id) => [id, nodesOf(pages.get(id) ?? emptyConnection<PassageDoc>()).filter((p) => popularEnough(p.readers, min) && shown.has(p.chapterId)).slice(0, size)]),
    );
  }
}

/**
 * Counts a highlight into (+1) or out of (-1) its passage, inside the write's transaction. A reader
 * counts once per passage however many times they highlight it (the unique passage_readers key),
 * so one account cannot make a passage popular.
 */
export async function countPassage(c: ReturnType<typeof collectionsOf>, h: HighlightDoc, delta: 1 | -1): Promise<void> {
  const readerKey = pairKey(h.passageKey, h.userId);
  let readerDelta = 0;
  if (delta > 0) {
    const added = await c.passageReaders.updateOne(
      { _id: readerKey },
      { $inc: { count: 1 }, $setOnInsert: { passageKey: h.passageKey, bookId: h.bookId, userId: h.userId } },
      { upsert: true },
    );
    readerDelta = added.upsertedCount === 1 ? 1 : 0;
  } else {
    const left = await c.passageReaders.findOneAndUpdate({ _id: readerKey }, { $inc: { count: -1 } }, { returnDocument: 'after' });
    if (left && left.count <= 0) {
      await c.passageReaders.deleteOne({ _id: readerKey });
      readerDelta = -1;
    }
  }
  await c.passages.updateOne(
    { _id: h.passageKey },
    { $inc: { count: delta, readers: readerDelta }, $setOnInsert: { bookId: h.bookId, chapterId: h.chapterId, start: h.start, end: h.end, exact: h.exact } },
    { upsert: delta > 0 },
  );
  // A passage nobody highlights any more is dropped (an upsert recreates it), or passage counters
  // would grow with every range ever highlighted (bench:soak).
  if (delta < 0) await c.passages.deleteOne({ _id: h.passageKey, count: { $lte: 0 } });
}
