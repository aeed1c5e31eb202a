/**
 * Bookshelf, reading progress across devices, and reading time per day. The newest clientTime
 * wins: a device that syncs late never moves the reader back.
 */
import { badInput, conflict } from '../../../lib/errors.js';
import type { Caller } from '../../../lib/identity.js';
import { cleanText } from '../../../lib/text.js';
import type { Filter } from '../../../lib/storage/types.js';
import { connectionOf, decodeCursor, mapNodes, pageSize, type CountedConnection, type PageArgs } from '../../../lib/pagination.js';
import { check, int } from '../../../lib/validation.js';
import { collectionsOf, pairKey, type ProgressDoc, type ShelfDoc } from '../store.js';
import { authorizeBook, authorizeChapter, can, notAvailable, requireSignedIn, subjects } from '../policy.js';
import { checkClientTime, checkId, type UgcDeps } from './common.js';

export const MAX_SHELF_BOOKS = 10_000;
/** One report may add at most an hour of reading; longer gaps are the app having been left open. */
export const MAX_SECONDS_PER_REPORT = 3_600;
/**
 * `ReadingTimeAdded` is emitted when a (user, book, day) total crosses a multiple of this, not on
 * every report: progress is the hottest write path, and recommendations need minutes, not seconds.
 */
export const READING_TIME_EVENT_STEP_SECONDS = 300;

/** The `ShelfEntryChanged` payload: enough for a consumer to keep its own copy (search's recommendations). */
export const shelfEntryEvent = (doc: ShelfDoc): Record<string, unknown> => ({
  userId: doc.userId,
  bookId: doc.bookId,
  secret: doc.secret,
  finished: doc.finished,
  finishedAt: doc.finishedAt?.toISOString() ?? null,
  addedAt: doc.addedAt.toISOString(),
});

/** Sync events (lib/events.ts outbox), written in the change's transaction; the gateway's subscriptions follow them. */
export const progressEvent = (p: ProgressDoc): Record<string, unknown> => ({
  userId: p.userId,
  bookId: p.bookId,
  chapterId: p.chapterId,
  offset: p.offset,
  percent: p.percent,
  clientTime: p.clientTime.toISOString(),
  deviceId: p.deviceId,
});
// `ShelfEntryChanged` carries shelfEntryEvent plus `op` (CREATED or UPDATED); a removal is `ShelfEntryRemoved { userId, bookId }`.

export type ShelfSort = 'LAST_READ' | 'ADDED';
export type StatsPeriod = 'WEEK' | 'MONTH' | 'YEAR' | 'ALL';
const PERIOD_DAYS: Record<StatsPeriod, number | null> = { WEEK: 7, MONTH: 30, YEAR: 365, ALL: null };

export interface ProgressInput {
  readonly chapterId?: string | null;
  readonly offset: number;
  readonly percent: number;
  readonly clientTime: Date;
  readonly deviceId: string;
  /** Seconds read since this device's previous report. @default 0 */
  readonly secondsRead?: number | null;
}

export interface ProgressResult {
  readonly progress: ProgressDoc;
  /** False when a newer report (from any device) was already stored. */
  readonly applied: boolean;
}

export interface ReadingStats {
  readonly period: StatsPeriod;
  readonly since: string | null;
  readonly totalSeconds: number;
  readonly daysRead: number;
  /** Days with reading, oldest first. */
  readonly series: { day: string; seconds: number }[];
  readonly topBooks: { bookId: string; seconds: number }[];
}

/** A shelf entry as a viewer sees it: when the owner read or finished it is the owner's to see. */
export type ShelfEntryView = Omit<ShelfDoc, 'lastReadAt' | 'finishedAt'> & { lastReadAt: Date | null; finishedAt: Date | null };

const utcDay = (date: Date): string => date.toISOString().slice(0, 10);

export class ShelfService {
  constructor(private readonly deps: UgcDeps) {}

  async addToShelf(caller: Caller, bookIdInput: string, options: { secret?: boolean | null } = {}): Promise<ShelfDoc> {
    const userId = requireSignedIn(caller);
    const bookId = checkId(bookIdInput, 'bookId');
    const { shelf } = this.deps.store;
    const existing = await shelf.findOne({ _id: pairKey(userId, bookId) });
    if (existing) return options.secret === undefined || options.secret === null ? existing : this.updateEntry(caller, bookId, { secret: options.secret });
    await authorizeBook(this.deps.catalog, caller, bookId);
    if ((await shelf.countDocuments({ userId })) >= MAX_SHELF_BOOKS) throw conflict(`A shelf holds at most ${MAX_SHELF_BOOKS} books.`);
    const now = this.deps.now();
    const doc: ShelfDoc = { _id: pairKey(userId, bookId), userId, bookId, secret: options.secret ?? false, finished: false, finishedAt: null, addedAt: now, lastReadAt: now };
    // Upsert-on-insert: two concurrent adds leave one entry (and one event).
    const { _id, ...fields } = doc;
    await this.deps.outbox.publish(async (tx, emit) => {
      const inserted = await collectionsOf(tx).shelf.updateOne({ _id }, { $setOnInsert: fields }, { upsert: true });
      if (inserted.upsertedCount === 1) await emit('ShelfEntryChanged', { ...shelfEntryEvent(doc), op: 'CREATED' });
    });
    return (await shelf.findOne({ _id: doc._id }))!;
  }

  /**
   * Which of `bookIds` are on the reader's shelf now, secret entries included: for services that
   * must not offer a reader a book they have (search's recommendations), asked at request time
   * because the shelf's events reach them a feed delivery later.
   */
  async shelvedAmong(userId: string, bookIds: readonly string[]): Promise<string[]> {
    if (bookIds.length === 0) return [];
    const docs = await this.deps.store.shelf.find({ _id: { $in: bookIds.map((bookId) => pairKey(userId, bookId)) } }).project<{ bookId: string }>({ bookId: 1 }).toArray();
    return docs.map((d) => d.bookId);
  }

  async removeFromShelf(caller: Caller, bookIdInput: string): Promise<boolean> {
    const userId = requireSignedIn(caller);
    const bookId = checkId(bookIdInput, 'bookId');
    return this.deps.outbox.publish(async (tx, emit) => {
      const result = await collectionsOf(tx).shelf.deleteOne({ _id: pairKey(userId, bookId) });
      if (result.deletedCount !== 1) return false;
      await emit('ShelfEntryRemoved', { userId, bookId });
      return true;
    });
  }

  async updateEntry(caller: Caller, bookIdInput: string, input: { secret?: boolean | null; finished?: boolean | null }): Promise<ShelfDoc> {
    const userId = requireSignedIn(caller);
    const bookId = checkId(bookIdInput, 'bookId');
    const set: Partial<ShelfDoc> = {};
    if (typeof input.secret === 'boolean') set.secret = input.secret;
    if (typeof input.finished === 'boolean') {
      set.finished = input.finished;
      set.finishedAt = input.finished ? this.deps.now() : null;
    }
    const updated = await this.deps.outbox.publish(async (tx, emit) => {
      const doc = await collectionsOf(tx).shelf.findOneAndUpdate({ _id: pairKey(userId, bookId) }, { $set: set }, { returnDocument: 'after' });
      if (doc) await emit('ShelfEntryChanged', { ...shelfEntryEvent(doc), op: 'UPDATED' });
      return doc;
    });
    if (!updated) throw notAvailable();
    return updated;
  }

  /**
   * `ownerId`'s shelf as `viewer` may see it: secret books, when and in which order the owner read
   * them only for the owner (policy: ShelfEntry read / readActivity).
   */
  async list(viewer: Caller, ownerId: string, args: PageArgs & { sort?: ShelfSort | null; finished?: boolean | null }): Promise<CountedConnection<ShelfEntryView>> {
    const size = pageSize(args.first);
    const owner = can(viewer, 'readActivity', subjects.user(ownerId));
    // Others' shelves are always in ADDED order (LAST_READ would reveal reading activity).
    const sort: ShelfSort = owner && args.sort !== 'ADDED' ? 'LAST_READ' : 'ADDED';
    const sortField = sort === 'ADDED' ? 'addedAt' : 'lastReadAt';
    const filter: Filter<ShelfDoc> = { userId: ownerId };
    if (!can(viewer, 'read', { type: 'ShelfEntry', userId: ownerId, secret: true })) filter.secret = false;
    if (typeof args.finished === 'boolean') filter.finished = args.finished;
    const countFilter = { ...filter };
    const key = decodeCursor(args.after, ['number', 'string']);
    if (key) {
      const at = new Date(key[0] as number);
      filter.$or = [{ [sortField]: { $lt: at } }, { [sortField]: at, _id: { $lt: key[1] as string } }];
    }
    const [docs, totalCount] = await Promise.all([
      this.deps.store.shelf.find(filter).sort({ [sortField]: -1, _id: -1 }).limit(size + 1).toArray(),
      this.deps.store.shelf.countDocuments(countFilter),
    ]);
    // Cursors are made from the stored document, before the view hides when it was read.
    const page = connectionOf(docs, size, (d) => [(sort === 'ADDED' ? d.addedAt : d.lastReadAt).getTime(), d._id], totalCount);
    const view = (d: ShelfDoc): ShelfEntryView =>
      can(viewer, 'readActivity', subjects.shelfEntry(d)) ? d : { ...d, lastReadAt: null, finishedAt: null };
    return mapNodes(page, view);
  }

  /** How many books are on the owner's shelf; null for anyone else. */
  async count(viewer: Caller, ownerId: string): Promise<number | null> {
    if (!can(viewer, 'readActivity', subjects.user(ownerId))) return null;
    return this.deps.store.shelf.countDocuments({ userId: ownerId });
  }

  /** Progress docs for many (user, book) pairs in one query, only the viewer's own: the DataLoader's batch function. */
  /** The viewer's own shelf entries by `<userId>|<bookId>` (me.changes); nothing of anyone else's. */
  async ownEntriesByKeys(viewer: Caller, keys: readonly string[]): Promise<Map<string, ShelfDoc>> {
    if (!viewer.userId) return new Map();
    const docs = await this.deps.store.shelf.find({ _id: { $in: [...keys] }, userId: viewer.userId }).toArray();
    return new Map(docs.filter((d) => can(viewer, 'readActivity', subjects.shelfEntry(d))).map((d) => [d._id, d]));
  }

  async progressByKeys(viewer: Caller, keys: readonly string[]): Promise<Map<string, ProgressDoc>> {
    if (!viewer.userId) return new Map();
    const docs = await this.deps.store.progress.find({ _id: { $in: [...keys] }, userId: viewer.userId }).toArray();
    return new Map(docs.filter((d) => can(viewer, 'readActivity', subjects.user(d.userId))).map((d) => [d._id, d]));
  }

  async updateProgress(caller: Caller, bookIdInput: string, input: ProgressInput): Promise<ProgressResult> {
    const userId = requireSignedIn(caller);
    const bookId = checkId(bookIdInput, 'bookId');
    const chapterId = input.chapterId === null || input.chapterId === undefined ? null : checkId(input.chapterId, 'chapterId');
    const deviceId = cleanText(input.deviceId, 'deviceId', { max: 100, singleLine: true });
    check(int(0, 100_000_000), input.offset, 'offset');
    if (!Number.isFinite(input.percent) || input.percent < 0 || input.percent > 100) throw badInput('percent must be between 0 and 100.', 'percent');
    const seconds = check(int(0, MAX_SECONDS_PER_REPORT), input.secondsRead ?? 0, 'secondsRead');
    const now = this.deps.now();
    const clientTime = checkClientTime(input.clientTime, now);
    // Only books (and chapters of them) the caller may read: anything else, existing or not, is the
    // one NOT_FOUND, and never reaches reading stats.
    if (chapterId) await authorizeChapter(this.deps.catalog, caller, chapterId, bookId);
    else await authorizeBook(this.deps.catalog, caller, bookId);

    const { progress } = this.deps.store;
    const _id = pairKey(userId, bookId);
    const doc: ProgressDoc = { _id, userId, bookId, chapterId, offset: input.offset, percent: input.percent, clientTime, deviceId, updatedAt: now };
    // One transaction, so one durable commit per report (each commit waits for an fdatasync, and
    // four in a row capped progress updates at a quarter of notes/s; bench:writes). Read, then
    // write only over an older report, in the transaction that also writes the ProgressUpdated
    // event: concurrent reports conflict and the transaction is retried, so a stale report never
    // wins and every applied report has exactly one event.
    const { _id: _key, ...fields } = doc;
    const applied = await this.deps.outbox.publish(async (tx, emit) => {
      const c = collectionsOf(tx);
      const current = await c.progress.findOne({ _id });
      const newer = !(current && current.clientTime.getTime() >= clientTime.getTime());
      if (newer) {
        await c.progress.updateOne({ _id }, { $set: fields }, { upsert: true });
        await emit('ProgressUpdated', progressEvent(doc));
      }
      // Reading time counts once per device report, even when another device's report is newer.
      const clockId = pairKey(userId, bookId, deviceId);
      const clock = await c.deviceClocks.findOne({ _id: clockId });
      if (clock && clock.clientTime.getTime() >= clientTime.getTime()) return newer;
      await c.deviceClocks.updateOne({ _id: clockId }, { $set: { clientTime } }, { upsert: true });
      const day = utcDay(clientTime);
      const dayTotal =
        seconds > 0
          ? await c.readingDays.findOneAndUpdate({ _id: pairKey(userId, day, bookId) }, { $inc: { seconds }, $setOnInsert: { userId, day, bookId } }, { upsert: true, returnDocument: 'after' })
          : null;
      await c.shelf.updateOne({ _id }, { $max: { lastReadAt: clientTime.getTime() > now.getTime() ? now : clientTime } });
      // The event carries the day's absolute total, so a lost one is corrected by the next.
      const step = READING_TIME_EVENT_STEP_SECONDS;
      if (dayTotal && Math.floor(dayTotal.seconds / step) > Math.floor((dayTotal.seconds - seconds) / step)) {
        await emit('ReadingTimeAdded', { userId, bookId, day, seconds: dayTotal.seconds });
      }
      return newer;
    });
    return { progress: applied ? doc : ((await progress.findOne({ _id })) ?? doc), applied };
  }

  /** The owner's reading time; null for anyone else. */
  async readingStats(viewer: Caller, ownerId: string, period: StatsPeriod): Promise<ReadingStats | null> {
    if (!can(viewer, 'readActivity', subjects.user(ownerId))) return null;
    const userId = ownerId;
    const days = PERIOD_DAYS[period];
    const since = days === null ? null : utcDay(new Date(this.deps.now().getTime() - (days - 1) * 86_400_000));
    const match = since === null ? { userId } : { userId, day: { $gte: since } };
    const { readingDays } = this.deps.store;
    const [series, topBooks] = await Promise.all([
      readingDays.aggregate<{ _id: string; seconds: number }>([{ $match: match }, { $group: { _id: '$day', seconds: { $sum: '$seconds' } } }, { $sort: { _id: 1 } }]).toArray(),
      readingDays
        .aggregate<{ _id: string; seconds: number }>([{ $match: match }, { $group: { _id: '$bookId', seconds: { $sum: '$seconds' } } }, { $sort: { seconds: -1, _id: 1 } }, { $limit: 10 }])
        .toArray(),
    ]);
    return {
      period,
      since,
      totalSeconds: series.reduce((sum, d) => sum + d.seconds, 0),
      daysRead: series.filter((d) => d.seconds > 0).length,
      series: series.map((d) => ({ day: d._id, seconds: d.seconds })),
      topBooks: topBooks.map((b) => ({ bookId: b._id, seconds: b.seconds })),
    };
  }
}
