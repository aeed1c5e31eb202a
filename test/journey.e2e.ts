/**
 * The main cross-service journey, once, through the gateway only: an editor uploads and publishes
 * a book; a reader shelves it, highlights and writes a private and a public note; another reader
 * sees only the public one; search finds the book, and the private note for its owner only; a
 * partner reads it through a trusted document; revision 2 is published, the repair job re-anchors
 * the highlight to the same words; unpublishing takes the book out of search.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEpub, type BookSource } from '../subgraphs/catalog/epub/build.js';
import { loginAdmin, registerEditor, registerUser, type TestUser } from './kit/accounts.js';
import { createBook, PUBLISH_BOOK, SET_LICENSE, uploadEpub, waitForJob } from './kit/catalog.js';
import { errorCodes, eventually, graphql, mustQuery, startTestPlatform, type TestPlatform } from './kit/platform.js';
import { ADD_TO_SHELF, CREATE_NOTE, UPDATE_PROGRESS, chaptersOf, highlightWords, rangeOf, replaceBookContent, waitForRepair, type ChapterView } from './kit/ugc.js';

const QUILL = 'The Cartographer of Quillmouth';
const V1: BookSource = {
  title: QUILL,
  authors: ['Journey Tests'],
  language: 'en',
  chapters: [
    {
      title: 'The Survey',
      paragraphs: [
        'Wren unrolled the old survey on the chart table and weighted its corners with four brass dividers.',
        'The coastline had moved since the last mapping; the sandbar at Quillmouth now reached the lighthouse.',
        'Her uncle had drawn every soundings mark by candlelight, and a few of them were plainly guesses.',
        'She decided to walk the tideline herself at dawn, with a compass, a chain and a notebook.',
      ],
    },
    { title: 'The Tideline', paragraphs: ['The chain clinked over wet shingle as the sun rose behind the marsh.', 'By noon she had measured nine furlongs.'] },
  ],
};
// Revision 2: a paragraph inserted at the top of chapter 1, its second paragraph deleted.
const V2: BookSource = {
  ...V1,
  chapters: [
    {
      title: 'The Survey',
      paragraphs: ['A word from the publisher: this edition adds the survey notes found in 1911.', V1.chapters[0]!.paragraphs[0]!, V1.chapters[0]!.paragraphs[2]!, V1.chapters[0]!.paragraphs[3]!],
    },
    V1.chapters[1]!,
  ],
};

const SEARCH = /* GraphQL */ `
  query($q: String!, $mode: SearchMode) { search(query: $q, mode: $mode, first: 10) { paragraphs { edges { node { book { id } paragraph { id } snippet } } } } }
`;
const MY_NOTES = /* GraphQL */ `query($q: String!) { searchMyNotes(query: $q, first: 10) { edges { node { kind id } } } }`;
const PARTNER_DOC = 'query PartnerCatalogue { books(first: 20) { edges { node { id title } } } }';

let platform: TestPlatform;
let editor: TestUser;
let alice: TestUser;
let bob: TestUser;
let bookId: string;
let chapter: ChapterView;

const q = <T = Record<string, any>>(token: string | undefined, query: string, variables: Record<string, unknown> = {}) =>
  mustQuery<T>(platform.gateway, query, variables, token ? { token } : {});
const bookIdsOf = (result: Record<string, any>): string[] => result.search.paragraphs.edges.map((e: { node: { book: { id: string } } }) => e.node.book.id);

beforeAll(async () => {
  platform = await startTestPlatform();
  [editor, alice, bob] = await Promise.all([registerEditor(platform.gateway), registerUser(platform.gateway), registerUser(platform.gateway)]);
}, 60_000);
afterAll(async () => platform?.stop());

describe('the Folio journey through the gateway', () => {
  it('editor: create, upload, watch the job to STORED, publish, license', async () => {
    const gw = platform.gateway;
    bookId = await createBook(gw, editor.token, { title: QUILL, authors: ['Journey Tests'], tags: ['maps'] });
    const upload = await uploadEpub(gw, editor.token, bookId, await buildEpub(V1));
    expect(upload.errors).toBeUndefined();
    const { job } = await waitForJob(gw, editor.token, upload.data!.uploadBookContent.id);
    expect(job.status).toBe('STORED');
    expect(job.stages.map((s) => s.stage)).toEqual(['QUEUED', 'FORMATTING', 'PARSING', 'SPLITTING', 'STORED']);
    // A draft is invisible to readers until published.
    expect((await q(alice.token, `query($id: ID!) { book(id: $id) { id } }`, { id: bookId })).book).toBeNull();
    await q(editor.token, PUBLISH_BOOK, { id: bookId });
    await q(editor.token, SET_LICENSE, { input: { bookId } });
    const reader = await q(alice.token, `{ books(first: 100) { edges { node { id title chapterCount } } } }`);
    expect(reader.books.edges.map((e: any) => e.node)).toContainEqual({ id: bookId, title: QUILL, chapterCount: 2 });
  });

  it('reader: shelf, progress, a highlight, a private and a public note; the other reader sees only the public one', async () => {
    [chapter] = await chaptersOf(platform.gateway, alice.token, bookId);
    await q(alice.token, ADD_TO_SHELF, { bookId });
    const progress = { chapterId: chapter!.id, offset: 40, percent: 25, deviceId: 'phone' };
    await q(alice.token, UPDATE_PROGRESS, { bookId, input: { ...progress, clientTime: new Date().toISOString() } });
    const stale = await q(alice.token, UPDATE_PROGRESS, { bookId, input: { ...progress, percent: 5, deviceId: 'tablet', clientTime: new Date(Date.now() - 60_000).toISOString() } });
    expect(stale.updateProgress).toMatchObject({ applied: false, progress: { percent: 25, deviceId: 'phone' } });
    const shelf = await q(alice.token, `{ me { shelf(first: 10) { edges { node { book { title } progress { percent } } } } } }`);
    expect(shelf.me.shelf.edges).toEqual([{ node: { book: { title: QUILL }, progress: { percent: 25 } } }]);

    const highlight = await highlightWords(platform.gateway, alice.token, chapter!, 'drawn every soundings mark by candlelight');
    const secret = (await q(alice.token, CREATE_NOTE, { input: { highlightId: highlight.id, text: 'uncle Aldous and his quixotic soundings' } })).createNote;
    const shared = (await q(alice.token, CREATE_NOTE, { input: { range: rangeOf(chapter!, 'walk the tideline herself'), text: 'a brave plan for the tideline', visibility: 'PUBLIC' } })).createNote;

    const asBob = await q(bob.token, `query($s: ID!, $p: ID!, $u: ID!, $pa: ID!, $pb: ID!) {
      s: note(id: $s) { id } p: note(id: $p) { text }
      user(id: $u) { notes { edges { node { id } } } highlights { totalCount } }
      onSecret: paragraph(id: $pa) { publicNotes { edges { node { id } } } }
      onShared: paragraph(id: $pb) { publicNotes { edges { node { id } } } }
    }`, { s: secret.id, p: shared.id, u: alice.id, pa: secret.paragraph.id, pb: shared.paragraph.id });
    expect(asBob).toEqual({
      s: null,
      p: { text: 'a brave plan for the tideline' },
      user: { notes: { edges: [{ node: { id: shared.id } }] }, highlights: null },
      onSecret: { publicNotes: { edges: [] } },
      onShared: { publicNotes: { edges: [{ node: { id: shared.id } }] } },
    });
  });

  it('search: finds the book, and the private note for its owner only; ask cites a selected paragraph', async () => {
    const found = await eventually(async () => {
      const r = await q(alice.token, SEARCH, { q: 'sandbar lighthouse', mode: 'KEYWORD' });
      return bookIdsOf(r).includes(bookId) ? r : null;
    });
    expect(found.search.paragraphs.edges[0].node.snippet).toMatch(/<mark>sandbar<\/mark>/i);
    const mine = await eventually(async () => {
      const r = await q(alice.token, MY_NOTES, { q: 'quixotic' });
      return r.searchMyNotes.edges.length > 0 ? r : null;
    });
    expect(mine.searchMyNotes.edges[0].node.kind).toBe('NOTE');
    const bobs = await q(bob.token, MY_NOTES, { q: 'quixotic' });
    expect(bobs.searchMyNotes.edges.map((e: any) => e.node.kind)).not.toContain('NOTE');
    const everyone = await q(bob.token, SEARCH, { q: 'quixotic soundings' });
    expect(JSON.stringify(everyone)).not.toContain('quixotic');

    const selected = chapter.paragraphs.edges[3]!.node.id;
    const answer = await q(alice.token, `query($p: ID!) { ask(question: "what does she plan?", paragraphId: $p) { citations { paragraph { id } quote } } }`, { p: selected });
    expect(answer.ask.citations[0]).toMatchObject({ paragraph: { id: selected } });
    expect(chapter.text).toContain(answer.ask.citations[0].quote);
  });

  it('partner: refused an unregistered query, served a trusted document for a book licensed to it', async () => {
    const admin = await loginAdmin(platform.gateway);
    const key = (await q(admin, `mutation { createApiKey(input: { name: "journey", scopes: ["catalog:read"] }) { key apiKey { id } } }`)).createApiKey;
    await q(editor.token, SET_LICENSE, { input: { bookId, partnerIds: [key.apiKey.id] } });
    const unregistered = await graphql(platform.gateway, PARTNER_DOC, {}, { apiKey: key.key });
    expect(errorCodes(unregistered)[0]).toMatch(/^(PERSISTED_QUERY_NOT_FOUND|FORBIDDEN)$/);
    await q(admin, `mutation($b: String!) { registerTrustedDocument(input: { body: $b, clientName: "journey" }) { id } }`, { b: PARTNER_DOC });
    const hash = createHash('sha256').update(PARTNER_DOC).digest('hex');
    const served = await eventually(async () => {
      const r = await graphql(platform.gateway, undefined, {}, { apiKey: key.key, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });
      return r.data ? r : null;
    });
    expect(served.data!.books.edges.map((e: any) => e.node.id)).toEqual([bookId]);
  });

  it('revision 2: the repair job re-anchors the highlight to the same words; unpublishing takes the book out of search', async () => {
    const rev2 = await replaceBookContent(platform.gateway, editor.token, bookId, V2);
    const job = await waitForRepair(platform.gateway, editor.token, bookId, rev2);
    expect(job).toMatchObject({ status: 'DONE', orphaned: 0 });
    expect(job.moved + job.unchanged).toBe(3); // the highlight and both notes
    const [chapter2] = await chaptersOf(platform.gateway, alice.token, bookId);
    const { book } = await q(alice.token, `query($id: ID!) { book(id: $id) { myHighlights { edges { node { quote status revisionId selector { position { start end } } } } } } }`, { id: bookId });
    const moved = book.myHighlights.edges[0].node;
    expect(moved).toMatchObject({ quote: 'drawn every soundings mark by candlelight', status: 'ACTIVE', revisionId: rev2 });
    expect(chapter2!.text.slice(moved.selector.position.start, moved.selector.position.end)).toBe(moved.quote);

    await q(editor.token, `mutation($id: ID!) { unpublishBook(id: $id) { status } }`, { id: bookId });
    await eventually(async () => !bookIdsOf(await q(alice.token, SEARCH, { q: 'survey chart table', mode: 'HYBRID' })).includes(bookId));
    expect((await q(alice.token, `query($id: ID!) { book(id: $id) { id } }`, { id: bookId })).book).toBeNull();
    // Her own data stays hers: the shelf entry, highlight and notes remain, with the book reference null.
    const mine = await graphql(platform.gateway, `{ me { id shelf { edges { node { book { title } } } } highlights { edges { node { quote book { title } chapter { title } } } } } }`, {}, { token: alice.token });
    expect(mine.errors ?? []).toEqual([]);
    expect(mine.data!.me.id).toBe(alice.id);
    expect(mine.data!.me.shelf.edges.map((e: any) => e.node.book)).toContain(null);
    expect(mine.data!.me.highlights.edges).toContainEqual({ node: { quote: 'drawn every soundings mark by candlelight', book: null, chapter: null } });
  });
});
