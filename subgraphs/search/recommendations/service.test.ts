import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FolioEvent } from '../../../lib/events.js';
import { ANONYMOUS, type Caller } from '../../../lib/identity.js';
import { createLogger } from '../../../lib/logger.js';
import { openStorage, type Storage } from '../../../lib/storage/index.js';
import type { Embedder } from '../ports.js';
import { RecommendationFeed } from './feed.js';
import { replayRecommendations } from './index.js';
import { StoredRecSource } from './model.js';
import { READABLE_TTL_MS } from './readable.js';
import { RecommendationService } from './service.js';
import { openRecommendationStore, type RecommendationStore } from './store.js';

const K = 3;
const user = (userId: string): Caller => ({ ...ANONYMOUS, userId, roles: ['READER'] });
/** Two-dimensional "embeddings": a book's text is its genre word. */
const embedder: Embedder = {
  id: 'test:2',
  dimension: 2,
  minSimilarity: 0,
  embed: async (texts) => texts.map((t) => (t.includes('sea') ? Float32Array.from([1, 0]) : Float32Array.from([0, 1]))),
};
const BOOKS: Record<string, { genre: string; author: string }> = {
  sea1: { genre: 'sea', author: 'Ann' },
  sea2: { genre: 'sea', author: 'Ann' },
  sea3: { genre: 'sea', author: 'Ann' },
  sea4: { genre: 'sea', author: 'Bo' },
  hill1: { genre: 'hill', author: 'Cy' },
  hill2: { genre: 'hill', author: 'Di' },
  locked: { genre: 'sea', author: 'Ed' },
};

let seq = 0;
const ev = (type: string, payload: Record<string, unknown>): FolioEvent => ({ seq: ++seq, type, payload, createdAt: new Date(Date.UTC(2026, 0, 1, 0, seq)).toISOString() });

let dir: string;
let storage: Storage;
let store: RecommendationStore;
let feed: RecommendationFeed;
let source: StoredRecSource;
let service: RecommendationService;
/** Every book is readable except `locked`. */
const readable = async (ids: readonly string[]): Promise<ReadonlySet<string>> => new Set(ids.filter((id) => id !== 'locked'));

const shelve = (userId: string, bookId: string, options: { secret?: boolean; finished?: boolean } = {}) =>
  feed.handleUgcEvent(ev('ShelfEntryChanged', { userId, bookId, secret: options.secret ?? false, finished: options.finished ?? false, addedAt: new Date().toISOString(), finishedAt: null }));

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'folio-recs-'));
  storage = await openStorage({ dataDir: dir });
  store = await openRecommendationStore(storage.db('folio_search'));
  source = new StoredRecSource(store, K, embedder.dimension, embedder.id);
  feed = new RecommendationFeed({
    store,
    embedder,
    logger: createLogger('recs-test', 'silent'),
    onChange: (ids) => source.invalidate(ids),
    loadRevision: async (revisionId) => {
      const bookId = revisionId.replace(/-r\d+$/, '');
      const b = BOOKS[bookId]!;
      return { content: { bookId, revisionId, title: bookId.toUpperCase(), authors: [b.author], language: 'en' }, chunks: [{ chapterId: 'c', n: 0, chunk: { text: `a ${b.genre} story`, paragraphIds: [], paragraphStarts: [], startOffset: 0, endOffset: 1 } }] };
    },
  });
  service = new RecommendationService({ store, source });
  for (const id of Object.keys(BOOKS)) await feed.handleCatalogEvent(ev('BookPublished', { bookId: id, revisionId: `${id}-r1` }));
});
afterEach(async () => {
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
});

const ids = (items: ReadonlyArray<{ bookId: string }> | undefined | null): string[] => (items ?? []).map((i) => i.bookId);

describe('recommendation feed', () => {
  it('counts co-reading only over non-secret shelf entries, and a redelivered event changes nothing', async () => {
    for (const u of ['r1', 'r2', 'r3']) {
      await shelve(u, 'hill1');
      await shelve(u, 'hill2');
    }
    await shelve('r4', 'hill1');
    await shelve('r4', 'hill2', { secret: true });
    expect((await store.pairs.findOne({ _id: 'hill1|hill2' }))?.count).toBe(3);
    expect((await store.popularity.findOne({ _id: 'hill2' }))?.readers).toBe(3);
    // Redelivery, then secret → public → secret again.
    await shelve('r3', 'hill2');
    await shelve('r4', 'hill2');
    await shelve('r4', 'hill2', { secret: true });
    expect((await store.pairs.findOne({ _id: 'hill2|hill1' }))?.count).toBe(3);
    await feed.handleUgcEvent(ev('ShelfEntryRemoved', { userId: 'r1', bookId: 'hill1' }));
    expect((await store.pairs.findOne({ _id: 'hill1|hill2' }))?.count).toBe(2);
    expect((await store.popularity.findOne({ _id: 'hill1' }))?.readers).toBe(3);
  });

  it('keeps highlights and reading time per reader, counting a redelivered event once', async () => {
    const created = ev('HighlightCreated', { highlightId: 'h1', userId: 'r1', bookId: 'sea1', chapterId: 'c', quote: 'q' });
    await feed.handleUgcEvent(created);
    await feed.handleUgcEvent(created);
    await feed.handleUgcEvent(ev('ReadingTimeAdded', { userId: 'r1', bookId: 'sea1', day: '2026-01-01', seconds: 300 }));
    await feed.handleUgcEvent(ev('ReadingTimeAdded', { userId: 'r1', bookId: 'sea1', day: '2026-01-01', seconds: 600 }));
    const doc = await store.readerBooks.findOne({ _id: 'r1|sea1' });
    expect(doc).toMatchObject({ highlights: 1, days: { '2026-01-01': 600 }, onShelf: false });
    // Reading and highlighting without a shelf entry never count for others.
    expect(await store.popularity.findOne({ _id: 'sea1' })).toBeNull();
    await feed.handleUgcEvent(ev('HighlightDeleted', { highlightId: 'h1', userId: 'r1' }));
    expect((await store.readerBooks.findOne({ _id: 'r1|sea1' }))?.highlights).toBe(0);
  });
});

describe('rebuild (npm run reindex)', () => {
  it('replaying both feeds gives the same derived data as following them live, and keeps dismissals', async () => {
    const bookEvents = Object.keys(BOOKS).map((id) => ev('BookPublished', { bookId: id, revisionId: `${id}-r1` }));
    const ugcEvents = [
      ...['r1', 'r2', 'r3'].flatMap((u) => ['sea1', 'hill1'].map((bookId) => ev('ShelfEntryChanged', { userId: u, bookId, secret: false, finished: false, addedAt: '2026-01-01T00:00:00.000Z' }))),
      ev('ShelfEntryChanged', { userId: 'r4', bookId: 'sea1', secret: true, finished: false, addedAt: '2026-01-01T00:00:00.000Z' }),
      ev('ShelfEntryRemoved', { userId: 'r1', bookId: 'hill1' }),
      ev('HighlightCreated', { highlightId: 'h9', userId: 'r2', bookId: 'sea2' }),
    ];
    for (const e of ugcEvents) await feed.handleUgcEvent(e);
    await service.dismiss(user('r1'), 'sea2');
    const snapshot = async () => ({
      pairs: (await store.pairs.find({}).sort({ _id: 1 }).toArray()).filter((p) => p.count !== 0).map((p) => [p._id, p.count]),
      popularity: (await store.popularity.find({}).sort({ _id: 1 }).toArray()).filter((p) => p.readers !== 0).map((p) => [p._id, p.readers]),
      readers: (await store.readerBooks.find({}).sort({ _id: 1 }).toArray()).map(({ updatedAt: _u, ...d }) => d),
      books: (await store.books.find({}).sort({ _id: 1 }).toArray()).map((d) => [d._id, d.state, d.vector]),
    });
    const live = await snapshot();
    await replayRecommendations({ store, source, service, feed, close: async () => undefined }, bookEvents, ugcEvents);
    expect(await snapshot()).toEqual(live);
    expect(live.pairs).toContainEqual(['sea1|hill1', 2]);
    expect(await store.dismissed.countDocuments({ userId: 'r1' })).toBe(1);
  });
});

describe('recommendation service', () => {
  it('similar books: content blended with co-reading from k readers, never unreadable ones, two per author', async () => {
    for (const u of ['r1', 'r2', 'r3']) {
      await shelve(u, 'sea1');
      await shelve(u, 'hill1');
    }
    const similar = await service.similarBooks(user('x'), 'sea1', 10, readable);
    expect(ids(similar)).not.toContain('locked');
    expect(ids(similar)).not.toContain('sea1');
    expect(similar.find((s) => s.bookId === 'hill1')).toMatchObject({ source: 'CO_READING', text: 'Readers of “SEA1” also read this' });
    expect(similar.filter((s) => BOOKS[s.bookId]!.author === 'Ann')).toHaveLength(2);
    expect(await service.similarBooks(user('x'), 'locked', 10, readable)).toEqual([]);
    await expect(service.similarBooks(user('x'), 'sea1', 21, readable)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it("a reader's list: never what they have, their own seeds named, dismissals at once, null for anyone else", async () => {
    await shelve('me', 'sea1', { finished: true });
    const first = await service.forReader(user('me'), 'me', { first: 10 }, readable);
    expect(first?.personalised).toBe(true);
    const items = first!.items.map((e) => e.node);
    expect(ids(items)).not.toContain('sea1');
    expect(ids(items)).not.toContain('locked');
    expect(items[0]).toMatchObject({ source: 'CONTENT', basedOn: ['sea1'], text: 'Similar themes to “SEA1”' });
    await service.dismiss(user('me'), items[0]!.bookId);
    const after = await service.forReader(user('me'), 'me', { first: 10 }, readable);
    expect(ids(after!.items.map((e) => e.node))).not.toContain(items[0]!.bookId);
    expect(await service.forReader(user('other'), 'me', {}, readable)).toBeNull();
    expect(await service.settings(user('other'), 'me')).toBeNull();
    await expect(service.dismiss(ANONYMOUS, 'sea2')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it("another reader's secret shelf entry never shows in anyone's reasons or co-reading", async () => {
    // r1..r3 read sea4 and hill2 openly; "alice" reads hill2 secretly next to sea1.
    for (const u of ['r1', 'r2', 'r3']) {
      await shelve(u, 'sea4');
      await shelve(u, 'hill2');
    }
    await shelve('alice', 'sea1');
    await shelve('alice', 'hill1', { secret: true });
    await shelve('r1', 'sea1');
    await shelve('r2', 'sea1');
    await shelve('bob', 'sea1');
    const bobs = (await service.forReader(user('bob'), 'bob', { first: 20 }, readable))!.items.map((e) => e.node);
    for (const item of bobs) expect(item.basedOn).toEqual(item.basedOn.filter((id) => id === 'sea1'));
    expect(bobs.find((i) => i.bookId === 'hill1')?.source).not.toBe('CO_READING');
    const similar = await service.similarBooks(user('bob'), 'sea1', 20, readable);
    expect(similar.find((i) => i.bookId === 'hill1')?.source).not.toBe('CO_READING');
    expect(await store.pairs.findOne({ _id: 'sea1|hill1' })).toBeNull();
  });

  it('personalisation off (or a new reader): cold start, popular and recent, in a language', async () => {
    await shelve('me', 'sea1');
    for (const u of ['r1', 'r2', 'r3']) await shelve(u, 'hill2');
    expect(await service.settings(user('me'), 'me')).toEqual({ personalisedRecommendations: true });
    await service.setPersonalised(user('me'), false);
    const page = (await service.forReader(user('me'), 'me', { first: 3 }, readable))!;
    expect(page.personalised).toBe(false);
    expect(page.items[0]!.node).toMatchObject({ bookId: 'hill2', source: 'POPULAR', basedOn: [] });
    expect(page.items.map((e) => e.node.source)).toEqual(['POPULAR', 'RECENT', 'RECENT']);
    expect(ids(page.items.map((e) => e.node))).not.toContain('sea1');
    const next = (await service.forReader(user('me'), 'me', { first: 3, after: page.endCursor }, readable))!;
    expect(ids(next.items.map((e) => e.node)).some((id) => ids(page.items.map((e) => e.node)).includes(id))).toBe(false);
    expect((await service.forReader(user('me'), 'me', { language: 'zh' }, readable))!.items).toEqual([]);
    await expect(service.forReader(user('me'), 'me', { first: 51 }, readable)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(service.forReader(user('me'), 'me', { language: 'x'.repeat(40) }, readable)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});

describe('reused work (issue 16): a cached list and cached readable answers never outlive a rule', () => {
  let clock: number;
  let cached: RecommendationService;
  /** Catalog as the service sees it: what is locked now, and how many times it was asked. */
  let locked: Set<string>;
  let asked: number;
  const catalog = async (bookIds: readonly string[]): Promise<ReadonlySet<string>> => {
    asked += 1;
    return new Set(bookIds.filter((id) => !locked.has(id)));
  };
  const mine = async (options: { first?: number } = {}) => (await cached.forReader(user('me'), 'me', { first: options.first ?? 10 }, catalog))!;
  const mineIds = async () => ids((await mine()).items.map((e) => e.node));

  beforeEach(async () => {
    clock = Date.UTC(2026, 5, 1);
    locked = new Set(['locked']);
    asked = 0;
    cached = new RecommendationService({ store, source, now: () => new Date(clock) });
    for (const u of ['r1', 'r2', 'r3']) {
      await shelve(u, 'sea1');
      await shelve(u, 'hill1');
    }
    await shelve('me', 'sea1', { finished: true });
  });

  it('the second request asks catalog nothing, and gives the same list', async () => {
    const first = await mineIds();
    const calls = asked;
    expect(calls).toBeGreaterThan(0);
    expect(await mineIds()).toEqual(first);
    expect(asked).toBe(calls);
  });

  it('a dismissal, the switch and a new shelf book show on the very next request, with no feed hook in this process', async () => {
    // `feed` here calls no service hook: as on an instance that does not follow ugc's feed.
    const first = await mineIds();
    expect(first.length).toBeGreaterThan(2);
    await cached.dismiss(user('me'), first[0]!);
    expect(await mineIds()).not.toContain(first[0]);
    await shelve('me', first[1]!);
    expect(await mineIds()).not.toContain(first[1]);
    await cached.setPersonalised(user('me'), false);
    const off = await mine();
    expect(off.personalised).toBe(false);
    expect(off.items.length).toBeGreaterThan(0);
    for (const { node } of off.items) expect(['POPULAR', 'RECENT']).toContain(node.source);
    expect(ids(off.items.map((e) => e.node))).not.toContain(first[1]);
  });

  it("a book shelved a moment ago (on ugc's shelf, its event not here yet) is never offered; with ugc down the list still answers", async () => {
    const shelf = new Set<string>();
    let ugcUp = true;
    const withShelf = new RecommendationService({
      store,
      source,
      now: () => new Date(clock),
      logger: createLogger('recs-test', 'silent'),
      shelf: {
        shelvedAmong: async (userId, bookIds) => {
          if (!ugcUp) throw new Error('ugc is down');
          return new Set(userId === 'me' ? bookIds.filter((id) => shelf.has(id)) : []);
        },
      },
    });
    const list = async () => ids((await withShelf.forReader(user('me'), 'me', { first: 10 }, catalog))!.items.map((e) => e.node));
    const first = await list();
    expect(first.length).toBeGreaterThan(2);
    // Shelved in ugc; the ShelfEntryChanged event has not reached this service, and the list is cached.
    shelf.add(first[0]!);
    expect(await list()).toEqual(first.slice(1));
    ugcUp = false;
    expect(await list()).toEqual(first);
  });

  it("a book's licence withdrawn: gone at once when this process handles catalog's event", async () => {
    const hooked = new RecommendationFeed({
      store,
      embedder,
      logger: createLogger('recs-test', 'silent'),
      loadRevision: async () => {
        throw new Error('not used: a licence event carries no content');
      },
      onAccessChange: (bookId) => cached.forgetBook(bookId),
    });
    const first = await mineIds();
    const victim = first[0]!;
    locked.add(victim);
    // Still catalog's earlier answer: the event has not arrived.
    expect(await mineIds()).toContain(victim);
    await hooked.handleCatalogEvent(ev('BookLicenseChanged', { bookId: victim }));
    expect(await mineIds()).not.toContain(victim);
    // And withdrawn for anyone asking similar books, too.
    expect(ids(await cached.similarBooks(user('x'), 'sea1', 20, catalog))).not.toContain(victim);
  });

  it(`a book's licence withdrawn with no event here (another instance, or a window running out): gone within READABLE_TTL_MS`, async () => {
    const first = await mineIds();
    const victim = first[0]!;
    locked.add(victim);
    clock += READABLE_TTL_MS - 1;
    expect(await mineIds()).toContain(victim);
    clock += 2;
    expect(await mineIds()).not.toContain(victim);
  });

  it('answers are per reader as catalog saw them: another territory is asked anew', async () => {
    await cached.similarBooks(user('x'), 'sea1', 10, catalog);
    const calls = asked;
    await cached.similarBooks(user('x'), 'sea1', 10, catalog);
    expect(asked).toBe(calls);
    await cached.similarBooks({ ...user('x'), territory: 'DE' }, 'sea1', 10, catalog);
    expect(asked).toBe(calls + 1);
  });
});
