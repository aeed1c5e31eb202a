/**
 * Issue 9 §1 and §7 from the attacker's side, through the gateway: unpublished text must not leak
 * through highlights, notes, range errors or popular highlights; "not there" and "not yours" are
 * one error; progress on unreadable books is refused and never counted; a passage is popular only
 * with several distinct readers; another user's reading activity stays private.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEpub, type BookSource } from '../../subgraphs/catalog/epub/build.js';
import { registerEditor, registerUser, type TestUser } from '../kit/accounts.js';
import { SET_LICENSE, createPublishedBook, uploadEpub, waitForJob } from '../kit/catalog.js';
import { graphql, mustQuery, startTestPlatform, type GraphQLResponse, type TestPlatform } from '../kit/platform.js';
import { ADD_TO_SHELF, CREATE_HIGHLIGHT, CREATE_NOTE, UPDATE_PROGRESS, chaptersOf, rangeOf, type ChapterView } from '../kit/ugc.js';

const PUBLISHED: BookSource = {
  title: 'The Quiet Harbour',
  authors: ['Folio Security Tests'],
  language: 'en',
  chapters: [
    {
      title: 'Morning',
      paragraphs: [
        'The fishing boats left before dawn, one lantern after another sliding out past the breakwater.',
        'Mara counted them from the window, as her grandmother had taught her, and wrote the number down.',
      ],
    },
  ],
};
// Stored as revision 2 but never published: its text is what the attacker is after.
const DRAFT: BookSource = {
  ...PUBLISHED,
  chapters: [{ title: 'Morning', paragraphs: ['SECRET DRAFT: the harbour master is the smuggler, and the ledger under the floorboards proves it.'] }],
};

let platform: TestPlatform;
let editors: TestUser[];
let readers: TestUser[];
let bookId: string;
let chapter: ChapterView;
let draftChapterId: string;
let unlicensedChapterId: string;
let unlicensedBookId: string;

beforeAll(async () => {
  platform = await startTestPlatform();
  const gw = platform.gateway;
  editors = await Promise.all([registerEditor(gw), registerEditor(gw), registerEditor(gw)]);
  readers = await Promise.all([registerUser(gw), registerUser(gw), registerUser(gw), registerUser(gw)]);
  const editor = editors[0]!;
  ({ bookId } = await createPublishedBook(gw, editor.token, await buildEpub(PUBLISHED), { title: PUBLISHED.title }));
  [chapter] = await chaptersOf(gw, readers[0]!.token, bookId);
  const upload = await uploadEpub(gw, editor.token, bookId, await buildEpub(DRAFT));
  const { job } = await waitForJob(gw, editor.token, upload.data!.uploadBookContent.id);
  draftChapterId = `${job.revision!.id}.c0`;
  // A published book whose licence window has not opened yet: readers may not read it.
  ({ bookId: unlicensedBookId } = await createPublishedBook(gw, editor.token, await buildEpub({ ...PUBLISHED, title: 'Not Yet' }), { title: 'Not Yet' }));
  const staffView = await chaptersOf(gw, editor.token, unlicensedBookId);
  unlicensedChapterId = staffView[0]!.id;
  await mustQuery(gw, SET_LICENSE, { input: { bookId: unlicensedBookId, startsAt: new Date(Date.now() + 30 * 86_400_000).toISOString() } }, { token: editor.token });
}, 120_000);
afterAll(async () => platform?.stop());

const as = (user: TestUser | null, query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse> =>
  graphql(platform.gateway, query, variables, user ? { token: user.token } : {});
const errorOf = (result: GraphQLResponse) => {
  expect(result.errors, JSON.stringify(result.data)).toHaveLength(1);
  const [error] = result.errors!;
  return { code: error!.extensions?.code, message: error!.message };
};
const POPULAR = `query($id: ID!) { book(id: $id) { popularHighlights(first: 20) { quote count chapter { id } } } }`;

describe('unpublished text through annotations', () => {
  it('refuses a draft chapter exactly like a chapter that does not exist, without revealing its length', async () => {
    const [mallory] = readers;
    const nonexistent = errorOf(await as(mallory!, CREATE_HIGHLIGHT, { input: { chapterId: `${'0'.repeat(24)}.c0`, start: 0, end: 1_000_000 } }));
    expect(nonexistent.code).toBe('NOT_FOUND');
    const probes = [
      as(mallory!, CREATE_HIGHLIGHT, { input: { chapterId: draftChapterId, start: 0, end: 1_000_000 } }),
      as(mallory!, CREATE_HIGHLIGHT, { input: { chapterId: draftChapterId, start: 0, end: 20 } }),
      as(mallory!, CREATE_NOTE, { input: { range: { chapterId: draftChapterId, start: 0, end: 20 }, text: 'leak?', visibility: 'PUBLIC' } }),
      as(mallory!, CREATE_HIGHLIGHT, { input: { chapterId: unlicensedChapterId, start: 0, end: 1_000_000 } }),
      as(mallory!, CREATE_HIGHLIGHT, { input: { chapterId: 'not-even-an-id', start: 0, end: 5 } }),
    ];
    for (const probe of await Promise.all(probes)) expect(errorOf(probe)).toEqual(nonexistent);
    const draftLength = DRAFT.chapters[0]!.paragraphs[0]!.length;
    expect(nonexistent.message).not.toContain(String(draftLength));
    expect(nonexistent.message).not.toMatch(/\d/);
  });

  it('gives the same error for another user’s highlight or note as for one that never existed', async () => {
    const [alice, mallory] = readers;
    const h = (await mustQuery(platform.gateway, CREATE_HIGHLIGHT, { input: rangeOf(chapter, 'one lantern after another') }, { token: alice!.token })).createHighlight;
    const pub = (await mustQuery(platform.gateway, CREATE_NOTE, { input: { highlightId: h.id, text: 'lovely', visibility: 'PUBLIC' } }, { token: alice!.token })).createNote;
    const missing = errorOf(await as(mallory!, `mutation { deleteHighlight(id: "${'f'.repeat(24)}") }`));
    const attempts = await Promise.all([
      as(mallory!, `mutation($id: ID!) { deleteHighlight(id: $id) }`, { id: h.id }),
      as(mallory!, `mutation($id: ID!) { updateHighlight(id: $id, input: { color: PINK }) { id } }`, { id: h.id }),
      as(mallory!, CREATE_NOTE, { input: { highlightId: h.id, text: 'on your highlight' } }),
      as(mallory!, `mutation($id: ID!) { updateNote(id: $id, input: { text: "hijacked" }) { id } }`, { id: pub.id }),
      as(mallory!, `mutation($id: ID!) { deleteNote(id: $id) }`, { id: pub.id }),
      as(mallory!, CREATE_HIGHLIGHT, { input: { chapterId: draftChapterId, start: 0, end: 10 } }),
    ]);
    for (const attempt of attempts) expect(errorOf(attempt)).toEqual(missing);
  });

  it('never shows draft text in popularHighlights, even when staff highlight the draft', async () => {
    // Staff may read (and so annotate) the draft through catalog; the public aggregate must not show it.
    for (const editor of editors) {
      await mustQuery(platform.gateway, CREATE_HIGHLIGHT, { input: { chapterId: draftChapterId, start: 0, end: 40 } }, { token: editor.token });
    }
    for (const reader of readers.slice(0, 3)) {
      expect(errorOf(await as(reader, CREATE_HIGHLIGHT, { input: { chapterId: draftChapterId, start: 0, end: 40 } })).code).toBe('NOT_FOUND');
    }
    for (const viewer of [null, readers[3]!, editors[0]!]) {
      const popular = (await mustQuery(platform.gateway, POPULAR, { id: bookId }, viewer ? { token: viewer.token } : {})).book.popularHighlights;
      expect(popular.filter((p: { chapter: { id: string } }) => p.chapter.id === draftChapterId)).toEqual([]);
      expect(JSON.stringify(popular)).not.toContain('SECRET DRAFT');
    }
  });
});

describe('reading progress on books the caller cannot read', () => {
  it('refuses unreadable, unpublished-revision and nonexistent targets alike, and never counts them', async () => {
    const mallory = readers[3]!;
    const input = (over: Record<string, unknown> = {}) => ({ offset: 0, percent: 50, clientTime: new Date().toISOString(), deviceId: 'probe', secondsRead: 3_000, ...over });
    const nonexistent = errorOf(await as(mallory, UPDATE_PROGRESS, { bookId: 'f'.repeat(24), input: input() }));
    expect(nonexistent.code).toBe('NOT_FOUND');
    const probes = await Promise.all([
      as(mallory, UPDATE_PROGRESS, { bookId: unlicensedBookId, input: input() }),
      as(mallory, UPDATE_PROGRESS, { bookId, input: input({ chapterId: draftChapterId }) }),
      as(mallory, UPDATE_PROGRESS, { bookId, input: input({ chapterId: unlicensedChapterId }) }),
      as(mallory, ADD_TO_SHELF, { bookId: unlicensedBookId }),
    ]);
    for (const probe of probes) expect(errorOf(probe)).toEqual(nonexistent);
    const stats = (await mustQuery(platform.gateway, `{ me { readingStats(period: WEEK) { totalSeconds topBooks { seconds } } } }`, {}, { token: mallory.token })).me.readingStats;
    expect(stats).toEqual({ totalSeconds: 0, topBooks: [] });
    // A readable book and chapter still count.
    await mustQuery(platform.gateway, UPDATE_PROGRESS, { bookId, input: input({ chapterId: chapter.id, secondsRead: 60 }) }, { token: mallory.token });
    const after = (await mustQuery(platform.gateway, `{ me { readingStats(period: WEEK) { totalSeconds } } }`, {}, { token: mallory.token })).me.readingStats;
    expect(after.totalSeconds).toBe(60);
  });
});

describe('popular highlights need several distinct readers', () => {
  it('shows a passage only once 3 different users highlighted it', async () => {
    const words = 'as her grandmother had taught her';
    // Popular passages are cacheable for a minute; each read here is a new document so the count is fresh.
    let read = 0;
    const popularQuotes = async () =>
      ((await mustQuery(platform.gateway, `${POPULAR}\n# read ${(read += 1)}`, { id: bookId })).book.popularHighlights as Array<{ quote: string; count: number }>).filter((p) => p.quote === words);
    const highlight = (user: TestUser) => mustQuery(platform.gateway, CREATE_HIGHLIGHT, { input: rangeOf(chapter, words) }, { token: user.token });
    // One reader highlighting it over and over is still one reader.
    for (let i = 0; i < 4; i += 1) await highlight(readers[0]!);
    expect(await popularQuotes()).toEqual([]);
    await highlight(readers[1]!);
    expect(await popularQuotes()).toEqual([]);
    await highlight(readers[2]!);
    expect(await popularQuotes()).toEqual([{ quote: words, count: 6, chapter: { id: chapter.id } }]);
  });
});

describe('reading activity of other users', () => {
  it('never shows another user when they last read (or finished) a book, nor orders their shelf by it', async () => {
    const [, , owner, snoop] = readers;
    const { bookId: second } = await createPublishedBook(platform.gateway, editors[0]!.token, await buildEpub({ ...PUBLISHED, title: 'Second' }), { title: 'Second' });
    await mustQuery(platform.gateway, ADD_TO_SHELF, { bookId }, { token: owner!.token });
    await mustQuery(platform.gateway, ADD_TO_SHELF, { bookId: second }, { token: owner!.token });
    // Reading the first-added book moves it to the top of the owner's LAST_READ order.
    await mustQuery(platform.gateway, UPDATE_PROGRESS, { bookId, input: { offset: 5, percent: 10, clientTime: new Date().toISOString(), deviceId: 'phone' } }, { token: owner!.token });
    await mustQuery(platform.gateway, `mutation($id: ID!) { updateShelfEntry(bookId: $id, input: { finished: true }) { id } }`, { id: second }, { token: owner!.token });
    const SHELF = `query($id: ID!) { user(id: $id) { shelf(sort: LAST_READ) { edges { cursor node { book { id } addedAt lastReadAt finished finishedAt } } } } }`;
    const own = (await mustQuery(platform.gateway, SHELF, { id: owner!.id }, { token: owner!.token })).user.shelf.edges;
    expect(own.map((e: any) => e.node.book.id)).toEqual([bookId, second]);
    expect(own.every((e: any) => e.node.lastReadAt !== null)).toBe(true);

    for (const viewer of [snoop!, null]) {
      const seen = (await mustQuery(platform.gateway, SHELF, { id: owner!.id }, viewer ? { token: viewer.token } : {})).user.shelf.edges;
      expect(seen.map((e: any) => e.node.book.id)).toEqual([second, bookId]); // ADDED order, newest first
      for (const { cursor, node } of seen) {
        expect(node.lastReadAt).toBeNull();
        expect(node.finishedAt).toBeNull();
        // The cursor carries the sort key: it must be when the book was added, not when it was read.
        const [at] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
        expect(at).toBe(Date.parse(node.addedAt));
      }
    }
  });
});
