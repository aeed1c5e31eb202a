/** The UGC database (`folio_ugc`): collections, their documents and indexes. */
import type { FolioDb } from '../../lib/storage/index.js';
import type { DocCollection } from '../../lib/storage/types.js';

export type Visibility = 'PRIVATE' | 'PUBLIC';
/** ACTIVE: anchored in the book's current revision. ORPHANED: could not be placed after a content change (kept, shown to its author). */
export type AnchorStatus = 'ACTIVE' | 'ORPHANED';
export type HighlightColor = 'YELLOW' | 'GREEN' | 'BLUE' | 'PINK' | 'PURPLE';
export type HighlightStyle = 'HIGHLIGHT' | 'UNDERLINE' | 'SQUIGGLE';

/** `_id` is `<userId>|<bookId>`: one entry per user and book. */
export interface ShelfDoc {
  _id: string;
  userId: string;
  bookId: string;
  /** Private reading: never shown to anyone but the owner. */
  secret: boolean;
  finished: boolean;
  finishedAt: Date | null;
  addedAt: Date;
  /** Never null, so "sort by last read" has one ordered field (addedAt until first read). */
  lastReadAt: Date;
}

/** The newest position per user and book, from whichever device reported the latest clientTime. `_id` is `<userId>|<bookId>`. */
export interface ProgressDoc {
  _id: string;
  userId: string;
  bookId: string;
  chapterId: string | null;
  offset: number;
  percent: number;
  clientTime: Date;
  deviceId: string;
  updatedAt: Date;
}

/** The newest clientTime seen from one device, so a retried or stale report adds no reading time twice. `_id` is `<userId>|<bookId>|<deviceId>`. */
export interface DeviceClockDoc {
  _id: string;
  clientTime: Date;
}

/** Seconds read per user, day (UTC, `YYYY-MM-DD`) and book. `_id` is `<userId>|<day>|<bookId>`. */
export interface ReadingDayDoc {
  _id: string;
  userId: string;
  day: string;
  bookId: string;
  seconds: number;
}

/**
 * A text anchor the way the W3C Web Annotation model has it: TextPositionSelector (start/end in
 * the chapter's plain text) and TextQuoteSelector (exact with prefix/suffix), on one revision.
 */
export interface AnchorFields {
  bookId: string;
  revisionId: string;
  chapterId: string;
  /** The chapter's position in its revision: a hint for re-anchoring when chapter ids change. */
  chapterIndex: number;
  /** The paragraph holding `start`, when known (public notes are listed per paragraph). */
  paragraphId: string | null;
  start: number;
  end: number;
  exact: string;
  prefix: string;
  suffix: string;
  status: AnchorStatus;
}

export interface HighlightDoc extends AnchorFields {
  _id: string;
  userId: string;
  color: HighlightColor;
  style: HighlightStyle;
  /** The popular-passage bucket this highlight counts towards (see passageKey). */
  passageKey: string;
  createdAt: Date;
  updatedAt: Date;
  /** The device time of the stored edit (last-write-wins per highlight); null/absent: untimed (creation, or an edit without one). */
  clientTime?: Date | null;
}

export interface NoteDoc extends AnchorFields {
  _id: string;
  userId: string;
  highlightId: string | null;
  text: string;
  visibility: Visibility;
  likeCount: number;
  createdAt: Date;
  updatedAt: Date;
  /** The device time of the stored edit (last-write-wins per note); null/absent: untimed (creation, or an edit without one). */
  clientTime?: Date | null;
}

/** `_id` is `<userId>|<bookId>`: one review per user and book. */
export interface ReviewDoc {
  _id: string;
  userId: string;
  bookId: string;
  rating: number;
  text: string;
  likeCount: number;
  createdAt: Date;
  updatedAt: Date;
}

/** Running totals per book, changed in the same transaction as the review. */
export interface BookRatingDoc {
  _id: string;
  count: number;
  sum: number;
}

export type LikeTarget = 'NOTE' | 'REVIEW';
/** `_id` is `<target>|<targetId>|<userId>`: the unique key makes "one like per user" a storage rule. */
export interface LikeDoc {
  _id: string;
  target: LikeTarget;
  targetId: string;
  userId: string;
  createdAt: Date;
}

/** How many highlights, and how many distinct readers, cover one passage of a book; maintained on every highlight write. */
export interface PassageDoc {
  _id: string;
  bookId: string;
  chapterId: string;
  start: number;
  end: number;
  exact: string;
  count: number;
  /** Distinct users with an ACTIVE highlight on exactly this passage (popularity needs several: one user's passage stays private). */
  readers: number;
}

/** One reader's highlights on one passage. `_id` is `<passageKey>|<userId>`: the unique key makes "count each reader once" a storage rule. */
export interface PassageReaderDoc {
  _id: string;
  passageKey: string;
  bookId: string;
  userId: string;
  count: number;
}

export type RepairStatus = 'PENDING' | 'RUNNING' | 'DONE' | 'FAILED' | 'SUPERSEDED';
export type RepairPhase = 'highlights' | 'notes' | 'passages' | 'done';

/** One re-anchoring job per book and new revision. `_id` is `<bookId>|<revisionId>`. */
export interface RepairJobDoc {
  _id: string;
  bookId: string;
  fromRevisionId: string;
  toRevisionId: string;
  status: RepairStatus;
  /** Progress: the phase, and the last document id whose batch has been committed. */
  phase: RepairPhase;
  cursor: string | null;
  moved: number;
  unchanged: number;
  orphaned: number;
  batches: number;
  attempts: number;
  error: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Time spent working, summed over attempts. */
  workMs: number;
  /** Its worker stopped mid-way (a crash or restart) and has not resumed yet. Absent on older jobs. */
  interrupted?: boolean;
}

/**
 * ugc's outbox (lib/events.ts `Outbox` writes it, in the change's transaction) read as every user's
 * sync log: `me.changes` pages it by (payload.userId, _id) through `outbox_by_user_seq`.
 */
export interface SyncEventDoc {
  /** The event's `seq`. */
  _id: number;
  type: string;
  payload: Record<string, unknown>;
  createdAt: Date;
}

/**
 * THE OUTBOX RETENTION CONTRACT (whoever prunes ugc's outbox must keep it): in the same transaction
 * that deletes outbox events, raise each affected user's watermark to the highest `seq` deleted among
 * that user's events (`recordPrunedSync` in service/sync.ts does exactly this). `me.changes` and
 * subscriptions with `after` answer CURSOR_EXPIRED for a cursor below the watermark (that user's
 * changes after it are incomplete), so a client resyncs in full instead of silently missing changes.
 * `_id` is the userId.
 */
export interface SyncPrunedDoc {
  _id: string;
  /** Every event of this user with seq ≤ this may have been deleted. */
  seq: number;
}

export interface UgcStore {
  readonly db: FolioDb;
  readonly shelf: DocCollection<ShelfDoc>;
  readonly progress: DocCollection<ProgressDoc>;
  readonly deviceClocks: DocCollection<DeviceClockDoc>;
  readonly readingDays: DocCollection<ReadingDayDoc>;
  readonly highlights: DocCollection<HighlightDoc>;
  readonly notes: DocCollection<NoteDoc>;
  readonly reviews: DocCollection<ReviewDoc>;
  readonly ratings: DocCollection<BookRatingDoc>;
  readonly likes: DocCollection<LikeDoc>;
  readonly passages: DocCollection<PassageDoc>;
  readonly passageReaders: DocCollection<PassageReaderDoc>;
  readonly repairJobs: DocCollection<RepairJobDoc>;
  readonly outbox: DocCollection<SyncEventDoc>;
  readonly syncPruned: DocCollection<SyncPrunedDoc>;
}

/** The collections as seen from `db` (pass a transaction's `tx` to write inside it). */
export function collectionsOf(db: FolioDb): UgcStore {
  return {
    db,
    shelf: db.collection<ShelfDoc>('shelf'),
    progress: db.collection<ProgressDoc>('progress'),
    deviceClocks: db.collection<DeviceClockDoc>('device_clocks'),
    readingDays: db.collection<ReadingDayDoc>('reading_days'),
    highlights: db.collection<HighlightDoc>('highlights'),
    notes: db.collection<NoteDoc>('notes'),
    reviews: db.collection<ReviewDoc>('reviews'),
    ratings: db.collection<BookRatingDoc>('book_ratings'),
    likes: db.collection<LikeDoc>('likes'),
    passages: db.collection<PassageDoc>('passages'),
    passageReaders: db.collection<PassageReaderDoc>('passage_readers'),
    repairJobs: db.collection<RepairJobDoc>('repair_jobs'),
    outbox: db.collection<SyncEventDoc>('outbox'),
    syncPruned: db.collection<SyncPrunedDoc>('sync_pruned'),
  };
}

export async function openUgcStore(db: FolioDb): Promise<UgcStore> {
  const store = collectionsOf(db);
  await Promise.all([
    store.shelf.createIndex({ userId: 1, lastReadAt: -1, _id: -1 }, { name: 'shelf_by_last_read' }),
    store.shelf.createIndex({ userId: 1, addedAt: -1, _id: -1 }, { name: 'shelf_by_added' }),
    store.readingDays.createIndex({ userId: 1, day: 1 }, { name: 'reading_days_by_user' }),
    store.highlights.createIndex({ userId: 1, bookId: 1, _id: -1 }, { name: 'highlights_by_user_book' }),
    store.highlights.createIndex({ userId: 1, chapterId: 1 }, { name: 'highlights_by_user_chapter' }),
    store.highlights.createIndex({ bookId: 1, _id: 1 }, { name: 'highlights_by_book' }),
    store.notes.createIndex({ userId: 1, _id: -1 }, { name: 'notes_by_user' }),
    store.notes.createIndex({ paragraphId: 1, visibility: 1, _id: -1 }, { name: 'notes_by_paragraph' }),
    store.notes.createIndex({ bookId: 1, _id: 1 }, { name: 'notes_by_book' }),
    store.notes.createIndex({ highlightId: 1 }, { name: 'notes_by_highlight' }),
    store.reviews.createIndex({ bookId: 1, createdAt: -1, _id: -1 }, { name: 'reviews_by_book_newest' }),
    store.reviews.createIndex({ userId: 1, createdAt: -1, _id: -1 }, { name: 'reviews_by_user_newest' }),
    store.likes.createIndex({ target: 1, targetId: 1 }, { name: 'likes_by_target' }),
    store.passages.createIndex({ bookId: 1, readers: -1 }, { name: 'passages_by_book_readers' }),
    store.passageReaders.createIndex({ bookId: 1 }, { name: 'passage_readers_by_book' }),
    store.repairJobs.createIndex({ bookId: 1, createdAt: -1 }, { name: 'repair_jobs_by_book' }),
    store.repairJobs.createIndex({ status: 1, createdAt: 1 }, { name: 'repair_jobs_by_status' }),
    // A page of one user's changes is a bounded index range on MongoDB (equality, then _id in order).
    store.outbox.createIndex({ 'payload.userId': 1, _id: 1 }, { name: 'outbox_by_user_seq' }),
  ]);
  return store;
}

/** Composite keys: `|` never occurs in the ids we issue, and user input never reaches a key unvalidated. */
export const pairKey = (...parts: string[]): string => parts.join('|');
