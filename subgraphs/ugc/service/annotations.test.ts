import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodesOf } from '../../../lib/pagination.js';
import { openTestUgc, userCaller, type TestUgc } from '../../../test/kit/ugcServices.js';

const alice = userCaller('u-alice');
const bob = userCaller('u-bob');
const P0 = 'It was the best of times, it was the worst of times, it was the age of wisdom.';
const P1 = 'It was the epoch of belief, it was the epoch of incredulity, it was the season of Light.';
let ugc: TestUgc;

beforeEach(async () => {
  ugc = await openTestUgc();
  ugc.catalog.addRevision('book1', 'r1', [[P0, P1], ['A second chapter begins here, quietly.']]);
});
afterEach(async () => ugc.close());

const rangeOf = (chapterText: string, words: string, chapterId = 'r1-c0') => {
  const start = chapterText.indexOf(words);
  return { chapterId, start, end: start + words.length };
};
const chapterText = `${P0}\n\n${P1}`;

async function outboxTypes(): Promise<string[]> {
  return (await ugc.outbox.read(0, 100)).map((e) => e.type);
}

describe('highlights', () => {
  it('anchors with position and quote selectors (≤32 chars of context) on the revision from catalog', async () => {
    const h = await ugc.annotations.createHighlight(alice, { ...rangeOf(chapterText, 'the epoch of belief'), color: 'GREEN' });
    expect(h).toMatchObject({ bookId: 'book1', revisionId: 'r1', chapterId: 'r1-c0', chapterIndex: 0, paragraphId: 'r1-c0.p1', exact: 'the epoch of belief', color: 'GREEN', status: 'ACTIVE' });
    expect(h.prefix).toBe(chapterText.slice(h.start - 32, h.start));
    expect(h.suffix).toBe(chapterText.slice(h.end, h.end + 32));
    const events = await ugc.outbox.read(0, 10);
    expect(events.map((e) => e.type)).toEqual(['HighlightCreated']);
    expect(events[0]!.payload).toMatchObject({ highlightId: h._id, userId: 'u-alice', bookId: 'book1', chapterId: 'r1-c0', quote: 'the epoch of belief' });
  });

  it('rejects offsets outside the chapter, empty ranges and unknown chapters', async () => {
    await expect(ugc.annotations.createHighlight(alice, { chapterId: 'r1-c0', start: 0, end: chapterText.length + 1 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(ugc.annotations.createHighlight(alice, { chapterId: 'r1-c0', start: 5, end: 5 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(ugc.annotations.createHighlight(alice, { chapterId: 'r1-c0', start: 1.5, end: 5 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(ugc.annotations.createHighlight(alice, { chapterId: 'nope', start: 0, end: 5 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses a draft chapter like a missing one, before looking at the range (no length in the error)', async () => {
    ugc.catalog.addRevision('book1', 'r9', [['An unpublished chapter of the same book.']], { draft: true });
    const missing = await ugc.annotations.createHighlight(alice, { chapterId: 'missing', start: 0, end: 10_000 }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'NOT_FOUND' });
    await expect(ugc.annotations.createHighlight(alice, { chapterId: 'r9-c0', start: 0, end: 10_000 })).rejects.toEqual(missing);
    await expect(ugc.annotations.createNote(alice, { range: { chapterId: 'r9-c0', start: 0, end: 5 }, text: 'x' })).rejects.toEqual(missing);
    expect(ugc.catalog.calls.chapters).toBe(0); // the text was never fetched
  });

  it('batches chapter lookups: several highlights created together cost one catalog call', async () => {
    const before = ugc.catalog.calls.chapters;
    await Promise.all([
      ugc.annotations.createHighlight(alice, rangeOf(chapterText, 'best of times')),
      ugc.annotations.createHighlight(alice, rangeOf('A second chapter begins here, quietly.', 'second chapter', 'r1-c1')),
      ugc.annotations.createHighlight(bob, rangeOf(chapterText, 'worst of times')),
    ]);
    expect(ugc.catalog.calls.chapters - before).toBe(1);
  });

  it('lets only the owner change or delete a highlight, and keeps highlights private', async () => {
    const h = await ugc.annotations.createHighlight(alice, rangeOf(chapterText, 'age of wisdom'));
    await expect(ugc.annotations.deleteHighlight(bob, h._id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(ugc.annotations.updateHighlight(bob, h._id, { color: 'PINK' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(nodesOf((await ugc.annotations.highlightsFirstPageByBook(bob, ['book1'], 10)).get('book1')!)).toEqual([]);
    expect((await ugc.annotations.highlightsByChapters(alice, ['r1-c0'])).get('r1-c0')!.map((x) => x._id)).toEqual([h._id]);
    expect(await ugc.annotations.listHighlights(bob, 'u-alice', {})).toBeNull();
    expect([...(await ugc.annotations.highlightsByIds(bob, [h._id])).keys()]).toEqual([]);
    expect((await ugc.annotations.updateHighlight(alice, h._id, { color: 'PINK' })).color).toBe('PINK');
    expect(await ugc.annotations.deleteHighlight(alice, h._id)).toBe(true);
    expect(await outboxTypes()).toEqual(['HighlightCreated', 'HighlightUpdated', 'HighlightDeleted']);
  });

  it('aggregates popular passages incrementally, counting each reader once, shown from 3 readers', async () => {
    const range = rangeOf(chapterText, 'best of times');
    const users = ['u1', 'u2', 'u3'].map((id) => userCaller(id));
    const made = await Promise.all(users.map((u) => ugc.annotations.createHighlight(u, range)));
    // One reader highlighting a passage many times is still one reader.
    for (let i = 0; i < 4; i += 1) await ugc.annotations.createHighlight(alice, rangeOf(chapterText, 'age of wisdom'));
    const popular = async (size = 5) => (await ugc.annotations.popularByBooks(bob, ['book1'], size)).get('book1')!.map((p) => [p.exact, p.count, p.readers]);
    expect(await popular()).toEqual([['best of times', 3, 3]]);
    expect(await ugc.store.passages.findOne({ exact: 'age of wisdom' })).toMatchObject({ count: 4, readers: 1 });
    await ugc.annotations.deleteHighlight(users[0]!, made[0]!._id);
    expect(await popular()).toEqual([]);
    expect(await ugc.store.passages.findOne({ exact: 'best of times' })).toMatchObject({ count: 2, readers: 2 });
    await ugc.annotations.createHighlight(users[0]!, range);
    expect(await popular(1)).toEqual([['best of times', 3, 3]]);
    // A passage nobody highlights any more is gone (counters do not pile up), and comes back.
    const lone = await ugc.annotations.createHighlight(bob, rangeOf(chapterText, 'epoch of belief'));
    expect(await ugc.store.passages.findOne({ exact: 'epoch of belief' })).toMatchObject({ count: 1, readers: 1 });
    await ugc.annotations.deleteHighlight(bob, lone._id);
    expect(await ugc.store.passages.findOne({ exact: 'epoch of belief' })).toBeNull();
    await ugc.annotations.createHighlight(bob, rangeOf(chapterText, 'epoch of belief'));
    expect(await ugc.store.passages.findOne({ exact: 'epoch of belief' })).toMatchObject({ count: 1, readers: 1 });
  });
});

describe('notes and their privacy', () => {
  it('shows a private note only to its author, on every path', async () => {
    const priv = await ugc.annotations.createNote(alice, { range: rangeOf(chapterText, 'season of Light'), text: 'my secret thought' });
    const pub = await ugc.annotations.createNote(alice, { range: rangeOf(chapterText, 'epoch of incredulity'), text: 'a public thought', visibility: 'PUBLIC' });
    expect(priv).toMatchObject({ visibility: 'PRIVATE', paragraphId: 'r1-c0.p1' });

    // Bob: direct, through the author's list, through the paragraph.
    expect([...(await ugc.annotations.notesByIds(bob, [priv._id, pub._id])).keys()]).toEqual([pub._id]);
    expect(nodesOf((await ugc.annotations.listNotes(bob, 'u-alice', {}))).map((n) => n._id)).toEqual([pub._id]);
    expect((await ugc.annotations.listNotes(bob, 'u-alice', { bookId: 'book1' })).totalCount).toBe(1);
    expect(nodesOf((await ugc.annotations.publicNotesFirstPage(bob, ['r1-c0.p1'], 10)).get('r1-c0.p1')!).map((n) => n._id)).toEqual([pub._id]);
    expect(nodesOf((await ugc.annotations.publicNotes(bob, 'r1-c0.p1', {}))).map((n) => n._id)).toEqual([pub._id]);
    // Another user's note, public or private, is refused exactly like a note that does not exist.
    const missing = await ugc.annotations.updateNote(bob, 'no-such-note', { text: 'x' }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'NOT_FOUND' });
    for (const attempt of [ugc.annotations.updateNote(bob, priv._id, { text: 'x' }), ugc.annotations.updateNote(bob, pub._id, { text: 'x' }), ugc.annotations.deleteNote(bob, pub._id)]) {
      await expect(attempt).rejects.toEqual(missing);
    }
    await expect(ugc.annotations.likeNote(bob, priv._id, true)).rejects.toMatchObject({ code: 'NOT_FOUND' });

    // Alice sees both.
    expect(nodesOf((await ugc.annotations.listNotes(alice, 'u-alice', {})))).toHaveLength(2);
    expect([...(await ugc.annotations.notesByIds(alice, [priv._id, pub._id])).keys()].sort()).toEqual([priv._id, pub._id].sort());

    // Making it private hides it from the paragraph at once.
    await ugc.annotations.updateNote(alice, pub._id, { visibility: 'PRIVATE' });
    expect(nodesOf((await ugc.annotations.publicNotes(bob, 'r1-c0.p1', {})))).toEqual([]);
  });

  it('cleans note text like every user-typed text: NFC, bidi controls stripped, lone surrogates refused', async () => {
    const range = rangeOf(chapterText, 'age of wisdom');
    const note = await ugc.annotations.createNote(alice, { range, text: 'cafe\u0301 \u202Egnp.exe\u202C' });
    expect(note.text).toBe('caf\u00e9 gnp.exe');
    await expect(ugc.annotations.createNote(alice, { range, text: 'half \uD800 a pair' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(ugc.annotations.updateNote(alice, note._id, { text: 'bell \u0007' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('writes NoteWritten/NoteDeleted with the change', async () => {
    const h = await ugc.annotations.createHighlight(alice, rangeOf(chapterText, 'age of wisdom'));
    const note = await ugc.annotations.createNote(alice, { highlightId: h._id, text: '  wise  ', visibility: 'PUBLIC' });
    expect(note).toMatchObject({ highlightId: h._id, exact: 'age of wisdom', text: 'wise' });
    await ugc.annotations.updateNote(alice, note._id, { text: 'wiser' });
    await ugc.annotations.deleteNote(alice, note._id);
    const events = await ugc.outbox.read(0, 10);
    expect(events.map((e) => e.type)).toEqual(['HighlightCreated', 'NoteWritten', 'NoteWritten', 'NoteDeleted']);
    expect(events[2]!.payload).toMatchObject({ noteId: note._id, userId: 'u-alice', bookId: 'book1', chapterId: 'r1-c0', paragraphId: 'r1-c0.p0', text: 'wiser', quote: 'age of wisdom', visibility: 'PUBLIC' });
  });

  it('refuses notes on others’ highlights, empty or oversized text', async () => {
    const h = await ugc.annotations.createHighlight(alice, rangeOf(chapterText, 'age of wisdom'));
    await expect(ugc.annotations.createNote(bob, { highlightId: h._id, text: 'mine now' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(ugc.annotations.createNote(alice, { highlightId: h._id, text: '   ' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(ugc.annotations.createNote(alice, { highlightId: h._id, text: 'x'.repeat(5001) })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(ugc.annotations.createNote(alice, { text: 'nowhere' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('counts one like per user on a public note', async () => {
    const note = await ugc.annotations.createNote(alice, { range: rangeOf(chapterText, 'age of wisdom'), text: 'hm', visibility: 'PUBLIC' });
    await Promise.all([ugc.annotations.likeNote(bob, note._id, true), ugc.annotations.likeNote(bob, note._id, true)]);
    expect((await ugc.annotations.likeNote(alice, note._id, true)).likeCount).toBe(2);
    expect((await ugc.annotations.likeNote(bob, note._id, false)).likeCount).toBe(1);
    expect((await ugc.annotations.likeNote(bob, note._id, false)).likeCount).toBe(1);
  });
});

describe('reviews', () => {
  it('keeps one review per user and book, and the rating as running totals', async () => {
    await ugc.reviews.writeReview(alice, 'book1', { rating: 5, text: 'Great' });
    await ugc.reviews.writeReview(bob, 'book1', { rating: 2 });
    expect((await ugc.reviews.ratingsByBooks(['book1'])).get('book1')).toEqual({ average: 3.5, count: 2 });
    await ugc.reviews.writeReview(alice, 'book1', { rating: 4, text: 'Good' });
    expect((await ugc.reviews.ratingsByBooks(['book1'])).get('book1')).toEqual({ average: 3, count: 2 });
    expect((await ugc.reviews.listByBook('book1', {})).totalCount).toBe(2);
    expect(await ugc.reviews.deleteReview(bob, 'book1')).toBe(true);
    expect(await ugc.reviews.deleteReview(bob, 'book1')).toBe(false);
    expect((await ugc.reviews.ratingsByBooks(['book1', 'other'])).get('book1')).toEqual({ average: 4, count: 1 });
    expect((await ugc.reviews.ratingsByBooks(['other'])).get('other')).toEqual({ average: null, count: 0 });
  });

  it('bounds rating and text, and counts one like per user', async () => {
    await expect(ugc.reviews.writeReview(alice, 'book1', { rating: 6 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(ugc.reviews.writeReview(alice, 'book1', { rating: 0 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(ugc.reviews.writeReview(alice, 'book1', { rating: 3, text: 'x'.repeat(10_001) })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(ugc.reviews.writeReview(alice, 'unknown', { rating: 3 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const review = await ugc.reviews.writeReview(alice, 'book1', { rating: 3 });
    await ugc.reviews.likeReview(bob, review._id, true);
    expect((await ugc.reviews.likeReview(bob, review._id, true)).likeCount).toBe(1);
  });

  it('dates reviews and likes by the injected clock', async () => {
    await ugc.close();
    let now = new Date('2031-01-02T03:04:05Z');
    ugc = await openTestUgc({ now: () => now });
    ugc.catalog.addRevision('book1', 'r1', [[P0, P1]]);
    const review = await ugc.reviews.writeReview(alice, 'book1', { rating: 4 });
    expect([review.createdAt, review.updatedAt]).toEqual([now, now]);
    const written = now;
    now = new Date('2031-01-03T00:00:00Z');
    expect((await ugc.reviews.writeReview(alice, 'book1', { rating: 5 }))).toMatchObject({ createdAt: written, updatedAt: now });
    await ugc.reviews.likeReview(bob, review._id, true);
    expect((await ugc.store.likes.findOne({}))!.createdAt).toEqual(now);
  });
});

describe('reviews newest first', () => {
  it('orders a book\'s reviews by when they were written, with a stable cursor, not by reviewer id', async () => {
    await ugc.close();
    let now = new Date('2031-01-02T00:00:00Z');
    ugc = await openTestUgc({ now: () => now });
    ugc.catalog.addRevision('book1', 'r1', [[P0, P1]]);
    await ugc.reviews.writeReview(bob, 'book1', { rating: 2 });
    now = new Date('2031-01-03T00:00:00Z');
    await ugc.reviews.writeReview(alice, 'book1', { rating: 5 });
    const reviewers = (c: { edges: ReadonlyArray<{ node: { userId: string } }> }) => c.edges.map((e) => e.node.userId);
    const all = await ugc.reviews.listByBook('book1', {});
    expect(reviewers(all)).toEqual([alice.userId, bob.userId]);
    const first = await ugc.reviews.listByBook('book1', { first: 1 });
    expect(reviewers(first)).toEqual([alice.userId]);
    const second = await ugc.reviews.listByBook('book1', { first: 1, after: first.pageInfo.endCursor });
    expect(reviewers(second)).toEqual([bob.userId]);
    expect(second.pageInfo.hasNextPage).toBe(false);
    expect(reviewers((await ugc.reviews.reviewsFirstPageByBook(['book1'], 5)).get('book1')!)).toEqual([alice.userId, bob.userId]);
  });
});

describe('export', () => {
  it('exports the user’s highlights and notes as a W3C Web Annotation collection', async () => {
    const { exportAnnotations } = await import('./export.js');
    const h = await ugc.annotations.createHighlight(alice, rangeOf(chapterText, 'age of wisdom'));
    await ugc.annotations.createNote(alice, { highlightId: h._id, text: 'wise' });
    await ugc.annotations.createHighlight(bob, rangeOf(chapterText, 'best of times'));
    expect(await exportAnnotations(ugc, bob, 'u-alice')).toBeNull();
    const doc = (await exportAnnotations(ugc, alice, 'u-alice')) as { type: string; total: number; first: { items: Array<Record<string, any>> } };
    expect(doc.type).toBe('AnnotationCollection');
    expect(doc.total).toBe(2);
    const [highlight, note] = doc.first.items;
    expect(highlight).toMatchObject({ type: 'Annotation', motivation: 'highlighting', target: { selector: [{ type: 'TextPositionSelector', start: h.start, end: h.end }, { type: 'TextQuoteSelector', exact: 'age of wisdom' }] } });
    expect(note).toMatchObject({ motivation: 'commenting', body: { type: 'TextualBody', value: 'wise' } });
  });
});
