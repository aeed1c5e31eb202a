import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callInternal } from '../lib/signing.js';
import { buildEpub, type BookSource } from '../subgraphs/catalog/epub/build.js';
import { registerEditor, registerUser, type TestUser } from './kit/accounts.js';
import { createPublishedBook } from './kit/catalog.js';
import { errorCodes, graphql, mustQuery, startTestPlatform, type TestPlatform } from './kit/platform.js';
import {
  ADD_TO_SHELF,
  CREATE_NOTE,
  UPDATE_PROGRESS,
  chaptersOf,
  counterTotal,
  highlightWords,
  paragraphAt,
  rangeOf,
  replaceBookContent,
  waitForRepair,
  type ChapterView,
} from './kit/ugc.js';

const HARBOUR: BookSource = {
  title: 'The Lighthouse Keeper',
  authors: ['Folio Tests'],
  language: 'en',
  chapters: [
    {
      title: 'Arrival',
      paragraphs: [
        'The ferry came in late, and the keeper walked down to meet it with a lantern swinging in his hand.',
        'Nobody on the pier said a word about the storm that was gathering beyond the headland.',
        'She carried a single suitcase and a book of tide tables that had belonged to her father.',
        'By midnight the wind had turned and the great lamp above them began its slow patient sweep.',
      ],
    },
    { title: 'Winter', paragraphs: ['Snow fell on the rocks for eleven days without stopping once.', 'They read aloud to each other in the evenings.'] },
  ],
};
// Revision 2: a paragraph inserted at the top of chapter 1, its third paragraph deleted.
const HARBOUR_V2: BookSource = {
  ...HARBOUR,
  chapters: [
    {
      title: 'Arrival',
      paragraphs: [
        'A note from the editor: this edition restores the original opening chapter.',
        HARBOUR.chapters[0]!.paragraphs[0]!,
        HARBOUR.chapters[0]!.paragraphs[1]!,
        HARBOUR.chapters[0]!.paragraphs[3]!,
      ],
    },
    HARBOUR.chapters[1]!,
  ],
};

let platform: TestPlatform;
let editor: TestUser;
let alice: TestUser;
let bob: TestUser;
let bookId: string;
let chapters: ChapterView[];

beforeAll(async () => {
  platform = await startTestPlatform();
  editor = await registerEditor(platform.gateway);
  [alice, bob] = await Promise.all([registerUser(platform.gateway), registerUser(platform.gateway)]);
  ({ bookId } = await createPublishedBook(platform.gateway, editor.token, await buildEpub(HARBOUR), { title: HARBOUR.title }));
  chapters = await chaptersOf(platform.gateway, alice.token, bookId);
}, 60_000);
afterAll(async () => platform?.stop());

const q = <T = Record<string, any>>(token: string, query: string, variables: Record<string, unknown> = {}) => mustQuery<T>(platform.gateway, query, variables, { token });

describe('shelf, progress and stats through the gateway', () => {
  it('keeps a shelf with the book from catalog and the newest progress across devices', async () => {
    await q(alice.token, ADD_TO_SHELF, { bookId });
    const now = Date.now();
    const newer = await q(alice.token, UPDATE_PROGRESS, { bookId, input: { chapterId: chapters[0]!.id, offset: 120, percent: 40, clientTime: new Date(now - 1000).toISOString(), deviceId: 'tablet', secondsRead: 600 } });
    expect(newer.updateProgress.applied).toBe(true);
    const stale = await q(alice.token, UPDATE_PROGRESS, { bookId, input: { offset: 10, percent: 3, clientTime: new Date(now - 60_000).toISOString(), deviceId: 'phone', secondsRead: 120 } });
    expect(stale.updateProgress).toMatchObject({ applied: false, progress: { offset: 120, percent: 40, deviceId: 'tablet' } });
    const me = await q(alice.token, `{ me { shelfCount shelf(first: 50) { totalCount edges { node { book { id title } progress { percent deviceId chapter { id } } } } } readingStats(period: WEEK) { totalSeconds daysRead series { seconds } topBooks { book { title } seconds } } } }`);
    expect(me.me.shelfCount).toBe(1);
    expect(me.me.shelf.edges[0].node).toEqual({ book: { id: bookId, title: HARBOUR.title }, progress: { percent: 40, deviceId: 'tablet', chapter: { id: chapters[0]!.id } } });
    expect(me.me.readingStats).toMatchObject({ totalSeconds: 720, topBooks: [{ book: { title: HARBOUR.title }, seconds: 720 }] });
  });

  it('never shows a secret book, progress or reading stats to another user', async () => {
    await q(bob.token, ADD_TO_SHELF, { bookId, secret: true });
    const query = `query($id: ID!) { user(id: $id) { shelfCount shelf { totalCount edges { node { book { id } progress { percent } } } } readingStats { totalSeconds } annotationsExport highlights { totalCount } } }`;
    const seenByAlice = await q(alice.token, query, { id: bob.id });
    expect(seenByAlice.user).toEqual({ shelfCount: null, shelf: { totalCount: 0, edges: [] }, readingStats: null, annotationsExport: null, highlights: null });
    const ownView = await q(bob.token, query, { id: bob.id });
    expect(ownView.user.shelf.totalCount).toBe(1);
    const aliceShelfByBob = await q(bob.token, query, { id: alice.id });
    expect(aliceShelfByBob.user.shelf.edges).toEqual([{ node: { book: { id: bookId }, progress: null } }]);
  });
});

describe("ugc's internal shelf lookup (search's recommendations ask it at request time)", () => {
  it('answers signed calls only, secret entries included, and refuses what is out of bounds', async () => {
    const base = platform.services.ugc!.url.replace(/\/graphql$/, '');
    const target = { secret: platform.config.internalSecret, audience: 'ugc', baseUrl: base };
    await q(bob.token, ADD_TO_SHELF, { bookId, secret: true });
    const contains = (userId: string, bookIds: string[]) => callInternal<{ books: string[] }>(target, 'POST', '/internal/shelf/contains', { userId, bookIds });
    expect((await contains(bob.id, [bookId, 'no-such-book'])).books).toEqual([bookId]);
    expect((await contains('nobody', [bookId])).books).toEqual([]);
    // Signed for another service, unsigned, or over the bound: refused.
    await expect(callInternal({ ...target, audience: 'catalog' }, 'POST', '/internal/shelf/contains', { userId: bob.id, bookIds: [bookId] })).rejects.toThrow(/HTTP 40[13]/);
    const unsigned = await fetch(`${base}/internal/shelf/contains`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: bob.id, bookIds: [bookId] }) });
    expect([401, 403]).toContain(unsigned.status);
    await expect(contains(bob.id, Array.from({ length: 1_001 }, (_, i) => `b${i}`))).rejects.toThrow(/HTTP 400/);
  });
});

describe('highlights, notes and reviews between two users', () => {
  it('keeps private notes private on every path, and shows public ones on their paragraph', async () => {
    const chapter = chapters[0]!;
    const h = await highlightWords(platform.gateway, alice.token, chapter, 'a book of tide tables');
    expect(h.selector.quote.exact).toBe('a book of tide tables');
    expect(h.selector.quote.prefix).toBe(chapter.text.slice(h.selector.position.start - 32, h.selector.position.start));
    const secret = (await q(alice.token, CREATE_NOTE, { input: { highlightId: h.id, text: 'my private thought' } })).createNote;
    const shared = (await q(alice.token, CREATE_NOTE, { input: { range: rangeOf(chapter, 'the storm that was gathering'), text: 'a public thought', visibility: 'PUBLIC' } })).createNote;

    // Bob: direct, through the user, through the book, the chapter and each paragraph.
    const direct = await q(bob.token, `query($a: ID!, $b: ID!) { a: note(id: $a) { id } b: note(id: $b) { id text author { id } } }`, { a: secret.id, b: shared.id });
    expect(direct).toEqual({ a: null, b: { id: shared.id, text: 'a public thought', author: { id: alice.id } } });
    const viaUser = await q(bob.token, `query($id: ID!) { user(id: $id) { notes { totalCount edges { node { id } } } } }`, { id: alice.id });
    expect(viaUser.user.notes.edges.map((e: any) => e.node.id)).toEqual([shared.id]);
    const viaBook = await q(bob.token, `query($id: ID!) { book(id: $id) { myHighlights { totalCount } chapters { myHighlights { id } paragraphs(first: 50) { edges { node { id publicNotes { edges { node { id text } } } } } } } } }`, { id: bookId });
    expect(viaBook.book.myHighlights.totalCount).toBe(0);
    expect(viaBook.book.chapters.flatMap((c: any) => c.myHighlights)).toEqual([]);
    const publicNotes = viaBook.book.chapters.flatMap((c: any) => c.paragraphs.edges.flatMap((e: any) => e.node.publicNotes.edges.map((n: any) => [e.node.id, n.node.text])));
    expect(publicNotes).toEqual([[paragraphAt(chapter, rangeOf(chapter, 'the storm that was gathering').start), 'a public thought']]);
    const bobExport = JSON.parse((await q(bob.token, `{ me { annotationsExport } }`)).me.annotationsExport);
    expect(bobExport.total).toBe(0);
    const edit = await graphql(platform.gateway, `mutation($id: ID!) { updateNote(id: $id, input: { text: "hijacked" }) { id } }`, { id: shared.id }, { token: bob.token });
    expect(errorCodes(edit)).toEqual(['NOT_FOUND']); // someone else's note, public or not, is "not there"
    const del = await graphql(platform.gateway, `mutation($id: ID!) { deleteNote(id: $id) }`, { id: secret.id }, { token: bob.token });
    expect(errorCodes(del)).toEqual(['NOT_FOUND']);

    // Alice sees everything of hers.
    const mine = await q(alice.token, `query($id: ID!) { me { notes { totalCount } } book(id: $id) { myHighlights { edges { node { id quote } } } chapters { myHighlights { id } } } }`, { id: bookId });
    expect(mine.me.notes.totalCount).toBe(2);
    expect(mine.book.myHighlights.edges).toEqual([{ node: { id: h.id, quote: 'a book of tide tables' } }]);
    const exported = JSON.parse((await q(alice.token, `{ me { annotationsExport } }`)).me.annotationsExport);
    expect(exported).toMatchObject({ type: 'AnnotationCollection', total: 3 });
  });

  it('counts likes once per user, keeps one review per user, and the rating incrementally', async () => {
    const note = (await q(alice.token, CREATE_NOTE, { input: { range: rangeOf(chapters[1]!, 'eleven days'), text: 'so long', visibility: 'PUBLIC' } })).createNote;
    await q(bob.token, `mutation($id: ID!) { likeNote(id: $id) { likeCount } }`, { id: note.id });
    const twice = await q(bob.token, `mutation($id: ID!) { likeNote(id: $id) { likeCount likedByMe } }`, { id: note.id });
    expect(twice.likeNote).toEqual({ likeCount: 1, likedByMe: true });

    await q(alice.token, `mutation($id: ID!) { writeReview(bookId: $id, input: { rating: 5, text: "Luminous." }) { id } }`, { id: bookId });
    await q(bob.token, `mutation($id: ID!) { writeReview(bookId: $id, input: { rating: 2 }) { id } }`, { id: bookId });
    await q(bob.token, `mutation($id: ID!) { writeReview(bookId: $id, input: { rating: 4 }) { id } }`, { id: bookId });
    const bad = await graphql(platform.gateway, `mutation($id: ID!) { writeReview(bookId: $id, input: { rating: 9 }) { id } }`, { id: bookId }, { token: bob.token });
    expect(errorCodes(bad)).toEqual(['BAD_USER_INPUT']);
    const book = await q(bob.token, `query($id: ID!) { book(id: $id) { title rating { average count } reviews { totalCount edges { node { rating author { id } } } } } }`, { id: bookId });
    expect(book.book.rating).toEqual({ average: 4.5, count: 2 });
    expect(book.book.reviews.totalCount).toBe(2);
  });

  it('refuses writes without sign-in and offsets outside the chapter', async () => {
    const anonymous = await graphql(platform.gateway, `mutation($id: ID!) { addToShelf(bookId: $id) { id } }`, { id: bookId });
    expect(errorCodes(anonymous)).toEqual(['UNAUTHENTICATED']);
    const outside = await graphql(platform.gateway, `mutation($input: HighlightInput!) { createHighlight(input: $input) { id } }`, { input: { chapterId: chapters[0]!.id, start: 0, end: 100_000 } }, { token: alice.token });
    expect(errorCodes(outside)).toEqual(['BAD_USER_INPUT']);
    const tooMany = await graphql(platform.gateway, `{ me { notes(first: 101) { totalCount } } }`, {}, { token: alice.token });
    expect(errorCodes(tooMany)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('performance', () => {
  it('answers me { shelf(first: 50) { book { title } progress { percent } } } with the same subgraph and database round trips for 2 or 8 books', async () => {
    const books = await Promise.all(Array.from({ length: 8 }, (_, i) => createPublishedBook(platform.gateway, editor.token, undefined, { title: `Shelf Book ${i}` })));
    const [small, large] = await Promise.all([registerUser(platform.gateway), registerUser(platform.gateway)]);
    for (const [user, count] of [[small, 2], [large, 8]] as const) {
      for (const b of books.slice(0, count)) {
        await q(user.token, ADD_TO_SHELF, { bookId: b.bookId });
        await q(user.token, UPDATE_PROGRESS, { bookId: b.bookId, input: { offset: 1, percent: 12.5, clientTime: new Date().toISOString(), deviceId: 'd' } });
      }
    }
    const { services } = platform;
    const foreground = (labels: string) => !/collection="(repair_jobs|leases|event_cursors|outbox|outbox_sequence)"/.test(labels);
    const snapshot = async () => ({
      accounts: await counterTotal(services.accounts!.url, 'folio_graphql_requests_total'),
      catalog: await counterTotal(services.catalog!.url, 'folio_graphql_requests_total'),
      ugc: await counterTotal(services.ugc!.url, 'folio_graphql_requests_total'),
      ugcDb: await counterTotal(services.ugc!.url, 'folio_db_operations_total', foreground),
    });
    const SHELF = `{ me { shelf(first: 50) { edges { node { book { title } progress { percent } } } } } }`;
    const cost = async (user: TestUser) => {
      const before = await snapshot();
      const data = await q(user.token, SHELF);
      const after = await snapshot();
      return { books: data.me.shelf.edges.length, titles: data.me.shelf.edges.map((e: any) => e.node.book.title), delta: Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - before[k as keyof typeof before]])) };
    };
    // Background work (consumers, lease renewals) can land inside one measurement and only ever adds:
    // the least of three is the query's own cost.
    const least = async (user: TestUser) => {
      const runs = [await cost(user), await cost(user), await cost(user)];
      const delta = Object.fromEntries(Object.keys(runs[0]!.delta).map((k) => [k, Math.min(...runs.map((r) => r.delta[k]!))]));
      return { ...runs[0]!, delta };
    };
    const a = await least(small);
    const b = await least(large);
    expect(a.books).toBe(2);
    expect(b.books).toBe(8);
    expect(b.titles.every((t: string) => t.startsWith('Shelf Book'))).toBe(true);
    expect(b.delta).toEqual(a.delta);
    // One request per subgraph, and a handful of queries in ugc: the page, its count, the progress batch.
    expect(a.delta).toMatchObject({ accounts: 1, catalog: 1, ugc: 1 });
    expect(a.delta.ugcDb).toBeLessThanOrEqual(3);
  }, 60_000);
});

describe('repair after a content replacement', () => {
  it('re-anchors highlights and notes to revision 2 (inserted and deleted paragraphs) and orphans what is gone', async () => {
    const chapter = chapters[0]!;
    const keeper = await highlightWords(platform.gateway, alice.token, chapter, 'great lamp above them');
    const gone = await highlightWords(platform.gateway, alice.token, chapter, 'single suitcase');
    const pier = await highlightWords(platform.gateway, bob.token, chapter, 'Nobody on the pier');
    const note = (await q(bob.token, CREATE_NOTE, { input: { highlightId: pier.id, text: 'quiet people', visibility: 'PUBLIC' } })).createNote;

    const revisionId = await replaceBookContent(platform.gateway, editor.token, bookId, HARBOUR_V2);
    const job = await waitForRepair(platform.gateway, editor.token, bookId, revisionId);
    expect(job.orphaned).toBeGreaterThanOrEqual(2); // Alice's highlight and its private note on the deleted paragraph
    expect(job.processed).toBe(job.moved + job.unchanged + job.orphaned);
    const forbidden = await graphql(platform.gateway, `query($id: ID!) { repairJob(bookId: $id) { id } }`, { id: bookId }, { token: alice.token });
    expect(errorCodes(forbidden)).toEqual(['FORBIDDEN']);

    const next = await chaptersOf(platform.gateway, alice.token, bookId);
    const QUERY = `query($id: ID!) { highlight(id: $id) { quote status revisionId chapter { id } selector { position { start end } } } }`;
    const moved = (await q(alice.token, QUERY, { id: keeper.id })).highlight;
    expect(moved).toMatchObject({ status: 'ACTIVE', revisionId, chapter: { id: next[0]!.id } });
    expect(next[0]!.text.slice(moved.selector.position.start, moved.selector.position.end)).toBe('great lamp above them');
    const orphan = (await q(alice.token, QUERY, { id: gone.id })).highlight;
    expect(orphan).toMatchObject({ status: 'ORPHANED', quote: 'single suitcase' });
    // The public note followed its paragraph into the new revision.
    const bobNote = (await q(alice.token, `query($id: ID!) { note(id: $id) { status paragraph { id } quote } }`, { id: note.id })).note;
    expect(bobNote).toEqual({ status: 'ACTIVE', paragraph: { id: paragraphAt(next[0]!, rangeOf(next[0]!, 'Nobody on the pier').start) }, quote: 'Nobody on the pier' });
  }, 60_000);
});
