/**
 * Recommendation rules, free of GraphQL: similar books, a reader's books (personal, or cold start
 * when they have no profile or switched personalisation off), dismissals and the switch. Every
 * list is filtered by the viewer's readable check, diversified by author, and bounded.
 */
import { LRUCache } from 'lru-cache';
import { badInput } from '../../../lib/errors.js';
import type { Caller } from '../../../lib/identity.js';
import type { Logger } from '../../../lib/logger.js';
import { decodeCursor, encodeCursor, pageSize } from '../../../lib/pagination.js';
import type { ReadableCheck } from '../policy.js';
import type { UgcClient } from '../ugcClient.js';
import type { StoredRecSource } from './model.js';
import { can, requireReader } from './policy.js';
import { ReadableCache } from './readable.js';
import { coldStart, forReader, similarTo, type Ranked } from './rank.js';
import { diversify, primarySubtag, seedWeight, type ReasonSource } from './scoring.js';
import { recKey, type RecommendationStore, type RecReaderBookDoc } from './store.js';

export const LIMITS = {
  defaultSimilar: 10,
  maxSimilar: 20,
  defaultFirst: 10,
  maxFirst: 50,
  /** Deepest recommendation a client can page to. */
  maxWindow: 200,
  maxLanguageChars: 35,
} as const;

export interface RecommendationItem {
  readonly bookId: string;
  readonly score: number;
  readonly source: ReasonSource;
  /** Books the reason names, each readable by the viewer. */
  readonly basedOn: readonly string[];
  readonly text: string;
}

export interface RecommendationPage {
  readonly items: ReadonlyArray<{ cursor: string; node: RecommendationItem }>;
  readonly hasNextPage: boolean;
  readonly endCursor: string | null;
  /** True when the list is personal (false: cold start). */
  readonly personalised: boolean;
}

export interface ReaderSettings {
  readonly personalisedRecommendations: boolean;
}

/** The seeds' signals from one reader's documents: their own data, secret entries included (it is their list). */
export function seedsOf(docs: readonly RecReaderBookDoc[], now: Date): Array<{ bookId: string; weight: number }> {
  return docs.map((d) => {
    const days = Object.keys(d.days).sort();
    const seconds = d.olderSeconds + Object.values(d.days).reduce((s, x) => s + x, 0);
    const lastDay = days.length ? new Date(`${days.at(-1)!}T12:00:00Z`) : null;
    const dates = [d.addedAt, d.finishedAt, lastDay].filter((x): x is Date => x instanceof Date);
    const lastActivity = dates.length ? new Date(Math.max(...dates.map((x) => x.getTime()))) : null;
    return { bookId: d.bookId, weight: seedWeight({ onShelf: d.onShelf, finished: d.finished, seconds, highlights: d.highlights, lastActivity }, now) };
  });
}

/** A book's similar list (before the viewer's readable filter, so it is the same for everyone) is reused this long. */
export const SIMILAR_TTL_MS = 10_000;

/**
 * A reader's ranked list is reused this long at most (a book published since, new co-reading or
 * popularity join after it); their own shelf, dismissals and switch are checked on every request.
 */
export const READER_LIST_TTL_MS = 5_000;

/** The newest of a reader's documents when their list was ranked: when it was written, and which ones were written then. */
interface ReaderEdge {
  readonly seen: Date | null;
  readonly ids: readonly string[];
}

interface ReaderList {
  readonly key: string;
  readonly ranked: readonly Ranked[];
  readonly edge: ReaderEdge;
}

function readerEdge(docs: ReadonlyArray<{ _id: string; updatedAt: Date }>): ReaderEdge {
  let seen: Date | null = null;
  for (const d of docs) if (!seen || d.updatedAt > seen) seen = d.updatedAt;
  return { seen, ids: seen ? docs.filter((d) => d.updatedAt.getTime() === seen.getTime()).map((d) => d._id) : [] };
}

export class RecommendationService {
  /** A list of 100 books each asking for similarBooks must not cost 100 scans of the catalogue. */
  private readonly similarCache: LRUCache<string, Ranked[]>;
  /** Ranking 200 books' neighbours on every page view was most of the request (issue 16). */
  private readonly readerCache: LRUCache<string, ReaderList>;
  private readonly readableCache: ReadableCache;

  constructor(
    private readonly deps: {
      readonly store: RecommendationStore;
      readonly source: StoredRecSource;
      /** The reader's shelf now (ugc), so a book shelved a moment ago is never offered. */
      readonly shelf?: UgcClient;
      readonly logger?: Logger;
      readonly now?: () => Date;
    },
  ) {
    // The caches' ages on the service's clock, so tests can move past a TTL.
    const perf = { now: () => this.now().getTime() };
    // ttlResolution 0: an age is the clock's now, never a value cached for a millisecond of real time.
    this.similarCache = new LRUCache({ max: 5_000, ttl: SIMILAR_TTL_MS, ttlResolution: 0, perf });
    this.readerCache = new LRUCache({ max: 10_000, ttl: READER_LIST_TTL_MS, ttlResolution: 0, perf });
    this.readableCache = new ReadableCache(perf);
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** Books like `bookId` for whoever looks at it: nothing personal, only books the viewer may read. */
  async similarBooks(viewer: Caller, bookId: string, first: number | null | undefined, readable: ReadableCheck): Promise<RecommendationItem[]> {
    const size = first === null || first === undefined ? LIMITS.defaultSimilar : first;
    if (!Number.isInteger(size) || size < 0 || size > LIMITS.maxSimilar) throw badInput(`first must be between 0 and ${LIMITS.maxSimilar}.`, 'first');
    if (size === 0) return [];
    let ranked = this.similarCache.get(bookId);
    if (!ranked) {
      const src = await this.deps.source.fresh();
      ranked = await similarTo(src, bookId, { limit: LIMITS.maxSimilar * 4 + 20 });
      this.similarCache.set(bookId, ranked);
    }
    return (await this.finish(viewer, ranked, size, readable, [bookId], true)).slice(0, size);
  }

  /** The owner's recommendations; null for anyone else. */
  async forReader(
    viewer: Caller,
    ownerId: string,
    args: { first?: number | null; after?: string | null; language?: string | null },
    readable: ReadableCheck,
  ): Promise<RecommendationPage | null> {
    if (!can(viewer, { type: 'OwnRecommendations', ownerId })) return null;
    const size = pageSize(args.first, LIMITS.maxFirst);
    const key = decodeCursor(args.after, ['number']);
    const offset = key ? (key[0] as number) : 0;
    if (!Number.isInteger(offset) || offset < 0 || offset >= LIMITS.maxWindow) throw badInput('The cursor is not valid.', 'after');
    const language = args.language?.trim() || null;
    if (language && (language.length > LIMITS.maxLanguageChars || !/^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(language))) throw badInput('language must be a BCP 47 tag.', 'language');
    const want = Math.min(LIMITS.maxWindow, offset + size + 1);

    const { store } = this.deps;
    const cached = this.readerCache.get(ownerId);
    const [dismissedDocs, personalised, src, unchanged] = await Promise.all([
      store.dismissed.find({ userId: ownerId }).project<{ bookId: string }>({ bookId: 1 }).toArray(),
      this.personalised(ownerId),
      this.deps.source.fresh(),
      cached ? this.sameReaderBooks(ownerId, cached) : false,
    ]);
    const dismissed = dismissedDocs.map((d) => d.bookId).sort();
    // Dismissals, the switch and the page's depth are read on every request and are part of the
    // key, so a cached ranking never outlives any of them.
    const listKey = JSON.stringify([personalised, language, want, dismissed]);
    let list = cached && unchanged && cached.key === listKey ? cached : null;
    if (!list) {
      list = await this.rankForReader(src, ownerId, { key: listKey, personalised, language, want, dismissed });
      this.readerCache.set(ownerId, list);
    }
    // Asked beside the readable check; a book shelved since its event is rare, and only then is
    // the list finished again without it (catalog's answers are cached by then).
    const shelvedNow = this.shelvedNow(ownerId, list.ranked);
    let all = await this.finish(viewer, list.ranked, want, readable, [], false);
    const shelved = await shelvedNow;
    if (all.some((item) => shelved.has(item.bookId))) all = await this.finish(viewer, list.ranked.filter((r) => !shelved.has(r.bookId)), want, readable, [], false);
    const page = all.slice(offset, offset + size);
    const items = page.map((node, i) => ({ cursor: encodeCursor([offset + i + 1]), node }));
    return { items, hasNextPage: all.length > offset + size && offset + size < LIMITS.maxWindow, endCursor: items.at(-1)?.cursor ?? null, personalised: personalised && list.edge.seen !== null };
  }

  /** A reader's ranked candidates (before the readable filter), from their books, dismissals and switch. */
  private async rankForReader(
    src: StoredRecSource,
    ownerId: string,
    input: { key: string; personalised: boolean; language: string | null; want: number; dismissed: readonly string[] },
  ): Promise<ReaderList> {
    const { personalised, language, want } = input;
    const docs = await this.deps.store.readerBooks.find({ userId: ownerId }).toArray();
    // Never a book they already have (on the shelf, read or highlighted), nor one they dismissed.
    const exclude = new Set([...docs.map((d) => d.bookId), ...input.dismissed]);
    const now = this.now();
    let ranked: Ranked[] = [];
    if (personalised) ranked = await forReader(src, seedsOf(docs, now), { limit: want * 2 + 10, exclude });
    // Cold start fills what the profile cannot (a new reader, or personalisation off), in the
    // language asked for, else (personal only) the one most of their books are in.
    const coldLanguage = language ?? (personalised ? mostCommonLanguage(docs.map((d) => src.books().get(d.bookId)?.language)) : null);
    const have = new Set([...exclude, ...ranked.map((r) => r.bookId)]);
    ranked = [...ranked, ...coldStart(src, { language: coldLanguage, limit: want + 10, exclude: have, now: now.getTime() })];
    return { key: input.key, ranked, edge: readerEdge(docs) };
  }

  /**
   * Whether the reader's documents are still the ones a cached list was ranked from: only those
   * written at or after the newest one seen are read (the `rec_reader_books_by_user_updated`
   * index), so a shelf change shows on the next request on every instance, without reading all
   * 200 of a heavy reader's documents. A document deleted since (nothing of the reader's left on
   * a book) is not seen here: the list then still leaves that book out, never the wrong way round,
   * until READER_LIST_TTL_MS has passed.
   */
  private async sameReaderBooks(ownerId: string, list: ReaderList): Promise<boolean> {
    const { seen, ids } = list.edge;
    const filter = seen === null ? { userId: ownerId } : { userId: ownerId, updatedAt: { $gte: seen } };
    const newer = await this.deps.store.readerBooks.find(filter).project<{ _id: string; updatedAt: Date }>({ _id: 1, updatedAt: 1 }).limit(ids.length + 1).toArray();
    return newer.length === ids.length && newer.every((d) => seen !== null && d.updatedAt.getTime() === seen.getTime() && ids.includes(d._id));
  }

  /**
   * Which candidates are on the reader's shelf now. The ranking excludes the books ugc's events
   * have told this service about; a book shelved since (the events are a feed delivery, tens of
   * ms, behind) is caught here, so a reader who shelves a book never sees it recommended next.
   * If ugc does not answer in time, the list goes out with the events' exclusions only.
   */
  private async shelvedNow(ownerId: string, ranked: readonly Ranked[]): Promise<Set<string>> {
    const { shelf, logger } = this.deps;
    if (!shelf || ranked.length === 0) return new Set();
    try {
      return await shelf.shelvedAmong(ownerId, [...new Set(ranked.map((r) => r.bookId))]);
    } catch (err) {
      logger?.warn({ err, userId: ownerId }, 'shelf check failed; recommending with the shelf as of the last ugc event');
      return new Set();
    }
  }

  /** The reader's own data changed (this process handled it from ugc's feed). */
  forgetReader(userId: string): void {
    this.readerCache.delete(userId);
  }

  /** A book's licence or publication changed (catalog's feed). */
  forgetBook(bookId: string): void {
    this.readableCache.forgetBook(bookId);
  }

  /** After a rebuild: nothing computed before it is used again. */
  forgetAll(): void {
    this.readerCache.clear();
    this.similarCache.clear();
    this.readableCache.forgetAll();
  }

  /** "Not for me": the book leaves the reader's recommendations from the next request on. */
  async dismiss(viewer: Caller, bookId: string): Promise<boolean> {
    const userId = requireReader(viewer);
    if (typeof bookId !== 'string' || bookId.length === 0 || bookId.length > 200) throw badInput('bookId is not a valid id.', 'bookId');
    await this.deps.store.dismissed.updateOne({ _id: recKey(userId, bookId) }, { $setOnInsert: { userId, bookId, at: this.now() } }, { upsert: true });
    return true;
  }

  async settings(viewer: Caller, ownerId: string): Promise<ReaderSettings | null> {
    if (!can(viewer, { type: 'OwnRecommendations', ownerId })) return null;
    return { personalisedRecommendations: await this.personalised(ownerId) };
  }

  async setPersonalised(viewer: Caller, enabled: boolean): Promise<ReaderSettings> {
    const userId = requireReader(viewer);
    if (typeof enabled !== 'boolean') throw badInput('enabled must be a boolean.', 'enabled');
    await this.deps.store.settings.updateOne({ _id: userId }, { $set: { personalised: enabled, updatedAt: this.now() } }, { upsert: true });
    return { personalisedRecommendations: enabled };
  }

  private async personalised(userId: string): Promise<boolean> {
    return (await this.deps.store.settings.findOne({ _id: userId }))?.personalised ?? true;
  }

  /**
   * Keeps only books the viewer may read (and only readable books in reasons), caps each author,
   * and words each reason. Readability is asked for the best candidates first, a few more than
   * needed at a time (catalog's check costs per id; the request's DataLoader batches what is
   * asked, and answers are reused for a few seconds: readable.ts).
   */
  private async finish(viewer: Caller, ranked: readonly Ranked[], want: number, readable: ReadableCheck, alsoCheck: readonly string[], similar: boolean): Promise<RecommendationItem[]> {
    const books = this.deps.source.books();
    const check = this.readableCache.check(viewer, readable);
    const candidates = diversify(
      ranked.filter((r) => books.has(r.bookId)),
      (r) => books.get(r.bookId)?.authors ?? [],
    );
    const out: RecommendationItem[] = [];
    let from = 0;
    do {
      const batch = candidates.slice(from, from + Math.max(10, want - out.length + 5));
      from += batch.length;
      const allowed = await check([...new Set([...alsoCheck, ...batch.flatMap((r) => [r.bookId, ...r.basedOn])])]);
      if (alsoCheck.some((id) => !allowed.has(id))) return [];
      for (const r of batch) {
        if (out.length >= want || !can(viewer, { type: 'RecommendedBook', bookReadable: allowed.has(r.bookId) })) continue;
        const basedOn = r.basedOn.filter((id) => allowed.has(id) && books.has(id));
        out.push({ bookId: r.bookId, score: r.score, source: r.source, basedOn, text: reasonText(r.source, basedOn.map((id) => books.get(id)!.title), similar) });
      }
    } while (out.length < want && from < candidates.length);
    return out;
  }
}

function mostCommonLanguage(languages: ReadonlyArray<string | undefined>): string | null {
  const counts = new Map<string, number>();
  for (const l of languages) if (l && l !== 'und') counts.set(primarySubtag(l), (counts.get(primarySubtag(l)) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? null;
}

const quoted = (titles: readonly string[]): string => titles.map((t) => `“${t}”`).join(' and ');

/** The reason a client shows: which signal, and the book(s) it comes from. */
export function reasonText(source: ReasonSource, titles: readonly string[], similar: boolean): string {
  switch (source) {
    case 'CONTENT':
      return similar || titles.length === 0 ? 'Similar themes' : `Similar themes to ${quoted(titles)}`;
    case 'CO_READING':
      return titles.length === 0 ? 'Readers of books you read also read this' : `Readers of ${quoted(titles)} also read this`;
    case 'POPULAR':
      return 'Popular with readers';
    case 'RECENT':
      return 'Recently published';
  }
}
