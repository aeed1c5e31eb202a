import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FolioError } from '../../../lib/errors.js';
import { OutboxRetention } from '../../../lib/events.js';
import { createLogger } from '../../../lib/logger.js';
import { engineOf } from '../../../lib/storage/embedded/index.js';
import { openTestUgc, userCaller, type TestUgc } from '../../../test/kit/ugcServices.js';
import { collectionsOf } from '../store.js';
import { listChanges, MAX_CHANGES_PAGE, recordPrunedSync, type ChangeView } from './sync.js';

const alice = userCaller('u-alice');
const bob = userCaller('u-bob');
let ugc: TestUgc;

beforeEach(async () => {
  ugc = await openTestUgc();
  ugc.catalog.addRevision('b1', 'b1-r1', [['Some text here, and a little more of it.']]);
  ugc.catalog.addRevision('b2', 'b2-r1', [['Another book entirely.']]);
});
afterEach(async () => ugc.close());

const page = async (viewer = alice, args: Parameters<typeof listChanges>[3] = {}, owner = viewer.userId!) => {
  const answer = await listChanges(ugc, viewer, owner, args);
  if (!answer) throw new Error('expected a connection');
  return answer;
};
const summary = (nodes: readonly ChangeView[]) => nodes.map((n) => `${n.kind} ${n.op} ${n.id}`);
const errorOf = async (run: () => Promise<unknown>): Promise<FolioError> => {
  try {
    await run();
  } catch (error) {
    if (error instanceof FolioError) return error;
    throw error;
  }
  throw new Error('expected a FolioError');
};

/** Every kind of change once, deletions included; returns the ids involved. */
async function aliceDoesEverything() {
  await ugc.shelf.addToShelf(alice, 'b1');
  await ugc.shelf.updateProgress(alice, 'b1', { offset: 5, percent: 10, clientTime: new Date(Date.now() - 1000), deviceId: 'phone' });
  const h = await ugc.annotations.createHighlight(alice, { chapterId: 'b1-r1-c0', start: 0, end: 4 });
  await ugc.annotations.updateHighlight(alice, h._id, { color: 'BLUE' });
  const n = await ugc.annotations.createNote(alice, { highlightId: h._id, text: 'first thought' });
  await ugc.annotations.updateNote(alice, n._id, { text: 'second thought' });
  await ugc.reviews.writeReview(alice, 'b1', { rating: 4, text: 'good' });
  await ugc.reviews.writeReview(alice, 'b1', { rating: 5, text: 'better on rereading' });
  await ugc.annotations.deleteNote(alice, n._id);
  await ugc.annotations.deleteHighlight(alice, h._id);
  await ugc.reviews.deleteReview(alice, 'b1');
  await ugc.shelf.removeFromShelf(alice, 'b1');
  return { h: h._id, n: n._id };
}

describe('me.changes', () => {
  it('lists every change of every kind in one order, deletions as tombstones', async () => {
    const { h, n } = await aliceDoesEverything();
    const { edges, pageInfo } = await page();
    const key = 'u-alice|b1';
    expect(summary(edges.map((e) => e.node))).toEqual([
      `SHELF CREATED ${key}`,
      `PROGRESS UPDATED ${key}`,
      `HIGHLIGHT CREATED ${h}`,
      `HIGHLIGHT UPDATED ${h}`,
      `NOTE CREATED ${n}`,
      `NOTE UPDATED ${n}`,
      `REVIEW CREATED ${key}`,
      `REVIEW UPDATED ${key}`,
      `NOTE DELETED ${n}`,
      `HIGHLIGHT DELETED ${h}`,
      `REVIEW DELETED ${key}`,
      `SHELF DELETED ${key}`,
    ]);
    const seqs = edges.map((e) => Number(e.cursor));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(edges.every((e) => e.node.bookId === 'b1' && e.node.at instanceof Date && e.cursor === e.node.seq)).toBe(true);
    expect(edges[1]!.node.deviceId).toBe('phone');
    expect(pageInfo).toEqual({ hasNextPage: false, endCursor: edges.at(-1)!.cursor });
  });

  it('pages from a cursor with no gap and no duplicate, filters by kind, and keeps the cursor when nothing is new', async () => {
    await aliceDoesEverything();
    const all = (await page()).edges.map((e) => e.cursor);
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 10; i++) {
      const { edges, pageInfo } = await page(alice, { after, first: 5 });
      seen.push(...edges.map((e) => e.cursor));
      after = pageInfo.endCursor;
      if (!pageInfo.hasNextPage) break;
    }
    expect(seen).toEqual(all);
    // Nothing new: an empty page whose endCursor is the cursor given.
    expect((await page(alice, { after })).pageInfo).toEqual({ hasNextPage: false, endCursor: after });
    expect((await page(alice, {})).pageInfo.endCursor).toBe(all.at(-1));
    // A new change shows up after the kept cursor, and only it.
    await ugc.shelf.addToShelf(alice, 'b2');
    expect(summary((await page(alice, { after })).edges.map((e) => e.node))).toEqual(['SHELF CREATED u-alice|b2']);
    // kinds
    const highlights = (await page(alice, { kinds: ['HIGHLIGHT', 'REVIEW'] })).edges.map((e) => `${e.node.kind} ${e.node.op}`);
    expect(highlights).toEqual(['HIGHLIGHT CREATED', 'HIGHLIGHT UPDATED', 'REVIEW CREATED', 'REVIEW UPDATED', 'HIGHLIGHT DELETED', 'REVIEW DELETED']);
  });

  it('is private: nobody reads another user’s changes, and a cursor from someone else’s feed shows only your own', async () => {
    await aliceDoesEverything();
    await ugc.shelf.addToShelf(bob, 'b2');
    expect(await listChanges(ugc, bob, 'u-alice', {})).toBeNull();
    expect(await listChanges(ugc, userCaller('u-anyone', ['ADMIN']), 'u-alice', {})).toBeNull();
    const bobs = await page(bob);
    expect(summary(bobs.edges.map((e) => e.node))).toEqual(['SHELF CREATED u-bob|b2']);
    // From the start of Alice's history, Bob still sees only his own change.
    const aliceFirst = (await page(alice)).edges[0]!.cursor;
    expect((await page(bob, { after: aliceFirst })).edges.map((e) => e.node.userId)).toEqual(['u-bob']);
  });

  it('refuses bad cursors and page sizes with BAD_USER_INPUT; a cursor past the newest change is CURSOR_EXPIRED', async () => {
    await ugc.shelf.addToShelf(alice, 'b1');
    for (const after of ['abc', '-1', '01', '1.5', '1e3', ' 1', '99999999999999999']) {
      expect((await errorOf(() => page(alice, { after }))).code, after).toBe('BAD_USER_INPUT');
    }
    for (const first of [0, -1, MAX_CHANGES_PAGE + 1, 1.5]) {
      expect((await errorOf(() => page(alice, { first }))).code, String(first)).toBe('BAD_USER_INPUT');
    }
    expect((await page(alice, { first: MAX_CHANGES_PAGE })).edges).toHaveLength(1);
    // A cursor the store never handed out (an outbox that was reset since): resync.
    expect((await errorOf(() => page(alice, { after: '1000' }))).code).toBe('CURSOR_EXPIRED');
  });

  it('answers CURSOR_EXPIRED for a cursor older than what retention kept, per user (the pruning contract)', async () => {
    await ugc.shelf.addToShelf(alice, 'b1'); // seq 1
    await ugc.shelf.addToShelf(alice, 'b2'); // seq 2
    await ugc.shelf.addToShelf(bob, 'b1'); // seq 3
    await ugc.shelf.removeFromShelf(alice, 'b1'); // seq 4
    // ugc's retention, as index.ts wires it, keeping 2 events: seq ≤ 2 go, each user's watermark first.
    const retention = new OutboxRetention(ugc.store.db, { maxAgeMs: 7 * 24 * 3_600_000, maxEvents: 2, logger: createLogger('changes-test', 'silent'), beforePrune: recordPrunedSync });
    expect(await retention.prune()).toMatchObject({ pruned: 2, floor: 2 });
    expect(await collectionsOf(ugc.store.db).outbox.countDocuments({ _id: { $lte: 2 } })).toBe(0);
    const expired = await errorOf(() => page(alice, { after: '1' }));
    expect(expired.code).toBe('CURSOR_EXPIRED');
    expect(expired.message).toMatch(/resync/);
    expect((await errorOf(() => page(alice))).code).toBe('CURSOR_EXPIRED'); // "from the start" is incomplete too
    expect(summary((await page(alice, { after: '2' })).edges.map((e) => e.node))).toEqual(['SHELF DELETED u-alice|b1']);
    // Bob lost nothing: his whole history is still there, from the start.
    expect(summary((await page(bob)).edges.map((e) => e.node))).toEqual(['SHELF CREATED u-bob|b1']);
    expect((await page(bob, { after: '1' })).edges).toHaveLength(1);
  });

  it('reads a page through the per-user index: other users’ events are never examined', async () => {
    for (let i = 0; i < 30; i++) await ugc.shelf.updateProgress(bob, 'b1', { offset: i, percent: 1, clientTime: new Date(Date.now() - 60_000 + i), deviceId: 'x' });
    for (let i = 0; i < 5; i++) await ugc.shelf.updateProgress(alice, 'b1', { offset: i, percent: 1, clientTime: new Date(Date.now() - 60_000 + i), deviceId: 'y' });
    const state = engineOf(ugc.store.db)!.coll('outbox');
    const before = state.docsExamined;
    expect((await page(alice, { first: 2 })).edges).toHaveLength(2);
    expect(state.docsExamined - before).toBeLessThanOrEqual(5);
  });
});

describe('highlight and note edits: last write wins by clientTime', () => {
  it('applies the newer edit, refuses an older one with CONFLICT naming the winner, and sends no change for it', async () => {
    const t = Date.now();
    const h = await ugc.annotations.createHighlight(alice, { chapterId: 'b1-r1-c0', start: 0, end: 4 });
    // Device A edits at t-1s; device B's offline edit was made at t-5s and arrives later.
    await ugc.annotations.updateHighlight(alice, h._id, { color: 'GREEN', clientTime: new Date(t - 1000) });
    const lost = await errorOf(() => ugc.annotations.updateHighlight(alice, h._id, { color: 'PINK', clientTime: new Date(t - 5000) }));
    expect(lost.code).toBe('CONFLICT');
    expect(lost.details).toEqual({ current: { id: h._id, clientTime: new Date(t - 1000).toISOString(), updatedAt: expect.any(String) } });
    expect((await ugc.store.highlights.findOne({ _id: h._id }))!.color).toBe('GREEN');
    // A newer edit wins; an untimed one applies, and any later timed edit wins over it.
    expect((await ugc.annotations.updateHighlight(alice, h._id, { style: 'UNDERLINE', clientTime: new Date(t) })).style).toBe('UNDERLINE');
    expect((await ugc.annotations.updateHighlight(alice, h._id, { color: 'PURPLE' })).color).toBe('PURPLE');
    expect((await ugc.annotations.updateHighlight(alice, h._id, { color: 'YELLOW', clientTime: new Date(t - 9000) })).color).toBe('YELLOW');
    const ops = (await page(alice)).edges.map((e) => `${e.node.kind} ${e.node.op}`);
    expect(ops).toEqual(['HIGHLIGHT CREATED', 'HIGHLIGHT UPDATED', 'HIGHLIGHT UPDATED', 'HIGHLIGHT UPDATED', 'HIGHLIGHT UPDATED']);

    const n = await ugc.annotations.createNote(alice, { highlightId: h._id, text: 'one' });
    await ugc.annotations.updateNote(alice, n._id, { text: 'two', clientTime: new Date(t) });
    expect((await errorOf(() => ugc.annotations.updateNote(alice, n._id, { text: 'stale', clientTime: new Date(t - 1) }))).code).toBe('CONFLICT');
    expect((await ugc.store.notes.findOne({ _id: n._id }))!.text).toBe('two');
    // A clock far in the future is refused, not allowed to win every later edit.
    expect((await errorOf(() => ugc.annotations.updateNote(alice, n._id, { text: 'x', clientTime: new Date(t + 3_600_000) }))).code).toBe('BAD_USER_INPUT');
    // Someone else's note: the one NOT_FOUND, clientTime or not.
    expect((await errorOf(() => ugc.annotations.updateNote(bob, n._id, { text: 'x', clientTime: new Date(t + 1) }))).code).toBe('NOT_FOUND');
  });
});
