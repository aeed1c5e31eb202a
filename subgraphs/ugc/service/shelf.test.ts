import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodesOf } from '../../../lib/pagination.js';
import { openTestUgc, userCaller, type TestUgc } from '../../../test/kit/ugcServices.js';

const alice = userCaller('u-alice');
const bob = userCaller('u-bob');
let now = new Date('2026-03-10T12:00:00Z');
let ugc: TestUgc;

beforeEach(async () => {
  now = new Date('2026-03-10T12:00:00Z');
  ugc = await openTestUgc({ now: () => now });
  for (const id of ['b1', 'b2', 'b3']) ugc.catalog.addRevision(id, `${id}-r1`, [['Some text here.']]);
});
afterEach(async () => ugc.close());

const at = (iso: string): Date => new Date(iso);

describe('bookshelf', () => {
  it('adds once, lists by last read, and removes', async () => {
    await ugc.shelf.addToShelf(alice, 'b1');
    now = at('2026-03-10T12:01:00Z');
    await ugc.shelf.addToShelf(alice, 'b2');
    await ugc.shelf.addToShelf(alice, 'b2');
    now = at('2026-03-10T12:10:00Z');
    await ugc.shelf.updateProgress(alice, 'b1', { offset: 5, percent: 10, clientTime: at('2026-03-10T12:05:00Z'), deviceId: 'phone' });
    const page = await ugc.shelf.list(alice, 'u-alice', { sort: 'LAST_READ' });
    expect(nodesOf(page).map((e) => e.bookId)).toEqual(['b1', 'b2']);
    expect(page.totalCount).toBe(2);
    const added = await ugc.shelf.list(alice, 'u-alice', { sort: 'ADDED' });
    expect(nodesOf(added).map((e) => e.bookId)).toEqual(['b2', 'b1']);
    expect(await ugc.shelf.removeFromShelf(alice, 'b1')).toBe(true);
    expect(await ugc.shelf.removeFromShelf(alice, 'b1')).toBe(false);
  });

  it('pages with an opaque cursor and rejects oversized pages and forged cursors', async () => {
    for (const [i, id] of ['b1', 'b2', 'b3'].entries()) {
      now = new Date(Date.parse('2026-03-10T12:00:00Z') + i * 1000);
      await ugc.shelf.addToShelf(alice, id);
    }
    const first = await ugc.shelf.list(alice, 'u-alice', { first: 2, sort: 'ADDED' });
    expect(first.pageInfo.hasNextPage).toBe(true);
    const cursor = first.pageInfo.endCursor;
    const second = await ugc.shelf.list(alice, 'u-alice', { first: 2, after: cursor, sort: 'ADDED' });
    expect(nodesOf(second).map((e) => e.bookId)).toEqual(['b1']);
    expect(second.pageInfo.hasNextPage).toBe(false);
    await expect(ugc.shelf.list(alice, 'u-alice', { first: 101 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(ugc.shelf.list(alice, 'u-alice', { after: 'garbage!' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('never shows a secret book to anyone but its owner', async () => {
    await ugc.shelf.addToShelf(alice, 'b1', { secret: true });
    await ugc.shelf.addToShelf(alice, 'b2');
    expect(nodesOf(await ugc.shelf.list(bob, 'u-alice', {})).map((e) => e.bookId)).toEqual(['b2']);
    expect(await ugc.shelf.count(bob, 'u-alice')).toBeNull();
    expect(await ugc.shelf.count(alice, 'u-alice')).toBe(2);
    expect(nodesOf(await ugc.shelf.list(alice, 'u-alice', {}))).toHaveLength(2);
    await ugc.shelf.updateEntry(alice, 'b1', { secret: false, finished: true });
    const seen = await ugc.shelf.list(bob, 'u-alice', { finished: true });
    expect(nodesOf(seen).map((e) => [e.bookId, e.finished])).toEqual([['b1', true]]);
  });

  it('refuses unknown or unreadable books and bad ids', async () => {
    await expect(ugc.shelf.addToShelf(alice, 'nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(ugc.shelf.addToShelf(alice, 'a|b')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(ugc.shelf.updateEntry(bob, 'b1', { secret: true })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('reading progress across devices', () => {
  it('keeps the newest clientTime: a stale device never overwrites a newer position', async () => {
    const newer = await ugc.shelf.updateProgress(alice, 'b1', { offset: 900, percent: 60, clientTime: at('2026-03-10T11:00:00Z'), deviceId: 'tablet' });
    expect(newer.applied).toBe(true);
    const stale = await ugc.shelf.updateProgress(alice, 'b1', { offset: 100, percent: 5, clientTime: at('2026-03-10T10:00:00Z'), deviceId: 'phone' });
    expect(stale.applied).toBe(false);
    expect(stale.progress).toMatchObject({ offset: 900, percent: 60, deviceId: 'tablet' });
    const next = await ugc.shelf.updateProgress(alice, 'b1', { offset: 950, percent: 62, clientTime: at('2026-03-10T11:30:00Z'), deviceId: 'phone' });
    expect(next.applied).toBe(true);
    expect((await ugc.shelf.progressByKeys(alice, ['u-alice|b1'])).get('u-alice|b1')).toMatchObject({ offset: 950, deviceId: 'phone' });
    expect((await ugc.shelf.progressByKeys(bob, ['u-alice|b1'])).size).toBe(0);
  });

  it('validates bounds and refuses a clock far in the future', async () => {
    const base = { offset: 1, percent: 1, clientTime: at('2026-03-10T11:00:00Z'), deviceId: 'd' };
    await expect(ugc.shelf.updateProgress(alice, 'b1', { ...base, percent: 101 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(ugc.shelf.updateProgress(alice, 'b1', { ...base, offset: -1 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(ugc.shelf.updateProgress(alice, 'b1', { ...base, deviceId: 'x'.repeat(101) })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(ugc.shelf.updateProgress(alice, 'b1', { ...base, secondsRead: 5000 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(ugc.shelf.updateProgress(alice, 'b1', { ...base, clientTime: at('2026-03-11T12:00:00Z') })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(ugc.shelf.updateProgress(userCaller(''), 'b1', base)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('adds reading time per UTC day once per device report, and sums it by period', async () => {
    const report = (iso: string, secondsRead: number, deviceId = 'phone', bookId = 'b1') =>
      ugc.shelf.updateProgress(alice, bookId, { offset: 1, percent: 1, clientTime: at(iso), deviceId, secondsRead });
    await report('2026-03-01T08:00:00Z', 600);
    await report('2026-03-09T08:00:00Z', 300);
    await report('2026-03-09T08:00:00Z', 300); // a retried report: not counted twice
    await report('2026-03-09T07:00:00Z', 900, 'tablet'); // older than the phone's, but the tablet's own newest: counted
    await report('2026-03-10T09:00:00Z', 1200, 'phone', 'b2');
    const week = (await ugc.shelf.readingStats(alice, 'u-alice', 'WEEK'))!;
    expect(week).toMatchObject({ totalSeconds: 2400, daysRead: 2 });
    expect(week.series).toEqual([{ day: '2026-03-09', seconds: 1200 }, { day: '2026-03-10', seconds: 1200 }]);
    expect(week.topBooks.map((b) => b.bookId).sort()).toEqual(['b1', 'b2']);
    const month = await ugc.shelf.readingStats(alice, 'u-alice', 'MONTH');
    expect(month).toMatchObject({ totalSeconds: 3000, daysRead: 3 });
    expect((await ugc.shelf.readingStats(bob, 'u-bob', 'ALL'))!.totalSeconds).toBe(0);
    expect(await ugc.shelf.readingStats(bob, 'u-alice', 'ALL')).toBeNull();
  });
});

describe('shelf and reading-time events (for search recommendations)', () => {
  it('emits ShelfEntryChanged once per add and per update, ShelfEntryRemoved, and ReadingTimeAdded every 5 minutes of a day', async () => {
    await ugc.shelf.addToShelf(alice, 'b1', { secret: true });
    await ugc.shelf.addToShelf(alice, 'b1');
    await ugc.shelf.updateEntry(alice, 'b1', { finished: true });
    for (let i = 0; i < 3; i++) {
      now = new Date(Date.parse('2026-03-10T12:00:00Z') + (i + 1) * 60_000);
      await ugc.shelf.updateProgress(alice, 'b1', { offset: i, percent: i, clientTime: now, deviceId: 'phone', secondsRead: 200 });
    }
    expect(await ugc.shelf.removeFromShelf(alice, 'b1')).toBe(true);
    expect(await ugc.shelf.removeFromShelf(alice, 'b1')).toBe(false);
    // Only the events recommendations read (sync's ProgressUpdated rides the same outbox).
    const events = (await ugc.outbox.read(0, 100)).filter((e) => e.type !== 'ProgressUpdated').map((e) => [e.type, e.payload]);
    expect(events).toEqual([
      ['ShelfEntryChanged', expect.objectContaining({ userId: 'u-alice', bookId: 'b1', secret: true, finished: false })],
      ['ShelfEntryChanged', expect.objectContaining({ userId: 'u-alice', bookId: 'b1', secret: true, finished: true })],
      // 200 s, 400 s (crosses 300), 600 s (crosses 600): the day's total each time.
      ['ReadingTimeAdded', { userId: 'u-alice', bookId: 'b1', day: '2026-03-10', seconds: 400 }],
      ['ReadingTimeAdded', { userId: 'u-alice', bookId: 'b1', day: '2026-03-10', seconds: 600 }],
      ['ShelfEntryRemoved', { userId: 'u-alice', bookId: 'b1' }],
    ]);
  });
});
