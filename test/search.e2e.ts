/**
 * Search through the gateway on the whole platform: demo books published through catalog are
 * indexed from its feed; keyword, semantic and hybrid search find the expected passages in
 * English and Chinese (catalog resolves the Paragraph entities); notes written through ugc are
 * found by their author only; ask cites real paragraphs; unpublishing removes a book.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEpub } from '../subgraphs/catalog/epub/build.js';
import { lighthouseBook } from '../subgraphs/catalog/demo/books.en.js';
import { teaBook } from '../subgraphs/catalog/demo/books.zh.js';
import { registerEditor, registerUser, type TestUser } from './kit/accounts.js';
import { createPublishedBook } from './kit/catalog.js';
import { errorCodes, eventually, graphql, mustQuery, startTestPlatform, type TestPlatform } from './kit/platform.js';
import { ASK, SEARCH_MY_NOTES, searchHits, waitForIndexed } from './kit/search.js';
import { highlightWords } from './kit/ugc.js';

let platform: TestPlatform;
let editor: TestUser;
let alice: TestUser;
let bob: TestUser;
const books: Record<'lighthouse' | 'tea', string> = { lighthouse: '', tea: '' };

beforeAll(async () => {
  platform = await startTestPlatform();
  editor = await registerEditor(platform.gateway);
  [alice, bob] = await Promise.all([registerUser(platform.gateway), registerUser(platform.gateway)]);
  for (const [key, book] of [['lighthouse', lighthouseBook], ['tea', teaBook]] as const) {
    const { bookId } = await createPublishedBook(platform.gateway, editor.token, await buildEpub(book), { title: book.title, authors: [...book.authors], language: book.language });
    books[key] = bookId;
  }
  await Promise.all(Object.values(books).map((id) => waitForIndexed(platform.gateway, editor.token, id)));
});

afterAll(async () => {
  await platform?.stop();
});

const PARAGRAPH_TEXT = /* GraphQL */ `
  query($query: String!, $mode: SearchMode) {
    search(query: $query, mode: $mode, scope: FULL_TEXT, first: 3) { paragraphs { edges { node { snippet book { id title } paragraph { id text startOffset endOffset chapter { id } } } } } }
  }
`;

describe('search through the gateway', () => {
  it('finds English and Chinese passages by keyword, semantically and hybrid', async () => {
    for (const mode of ['KEYWORD', 'SEMANTIC', 'HYBRID']) {
      const en = await mustQuery(platform.gateway, PARAGRAPH_TEXT, { query: 'foghorn compressor', mode }, { token: alice.token });
      const top = en.search.paragraphs.edges[0].node;
      expect(top.book, mode).toEqual({ id: books.lighthouse, title: lighthouseBook.title });
      expect(top.paragraph.text, mode).toContain('compressor for the foghorn');
      const zh = await mustQuery(platform.gateway, PARAGRAPH_TEXT, { query: '陆羽 茶经', mode }, { token: alice.token });
      expect(zh.search.paragraphs.edges[0].node.paragraph.text, mode).toContain('陆羽写成《茶经》');
    }
  });

  it('finds books by title and author, prefix and typo-tolerant', async () => {
    expect((await searchHits(platform.gateway, { query: 'Ganet', scope: 'BOOKS' })).books[0]?.book.id).toBe(books.lighthouse);
    expect((await searchHits(platform.gateway, { query: 'Eli', scope: 'AUTHORS' })).books[0]?.book.id).toBe(books.lighthouse);
    expect((await searchHits(platform.gateway, { query: '茶之旅', scope: 'BOOKS' })).books[0]?.book.id).toBe(books.tea);
  });

  it("finds a user's note for that user only", async () => {
    const hit = (await mustQuery(platform.gateway, PARAGRAPH_TEXT, { query: 'lobster fishermen', mode: 'KEYWORD' }, { token: alice.token })).search.paragraphs.edges[0].node.paragraph;
    const note = await mustQuery(
      platform.gateway,
      `mutation($input: NoteInput!) { createNote(input: $input) { id } }`,
      { input: { range: { chapterId: hit.chapter.id, start: hit.startOffset, end: hit.endOffset }, text: 'Remember the marmalade sandwiches for the rescued crew' } },
      { token: alice.token },
    );
    const found = await eventually(async () => {
      const data = await mustQuery(platform.gateway, SEARCH_MY_NOTES, { query: 'marmalade sandwiches' }, { token: alice.token });
      return data.searchMyNotes.edges.length > 0 && data.searchMyNotes.edges;
    });
    expect(found[0].node).toMatchObject({ kind: 'NOTE', id: note.createNote.id, book: { id: books.lighthouse } });
    const others = await mustQuery(platform.gateway, SEARCH_MY_NOTES, { query: 'marmalade sandwiches' }, { token: bob.token });
    expect(others.searchMyNotes.edges.map((e: any) => e.node.id)).not.toContain(note.createNote.id);
    expect(errorCodes(await graphql(platform.gateway, SEARCH_MY_NOTES, { query: 'marmalade' }))).toContain('UNAUTHENTICATED');
    // A query that matches none of her notes finds nothing, not her nearest notes.
    expect((await mustQuery(platform.gateway, SEARCH_MY_NOTES, { query: 'quantum chromodynamics zebra' }, { token: alice.token })).searchMyNotes.edges).toEqual([]);
  });

  it('finds a highlight with the paragraph it is in', async () => {
    const hit = (await mustQuery(platform.gateway, PARAGRAPH_TEXT, { query: 'foghorn compressor', mode: 'KEYWORD' }, { token: bob.token })).search.paragraphs.edges[0].node.paragraph;
    const chapter = (await mustQuery(platform.gateway, `query($id: ID!) { chapter(id: $id) { id text } }`, { id: hit.chapter.id }, { token: bob.token })).chapter;
    const highlight = await highlightWords(platform.gateway, bob.token, chapter, 'compressor for the foghorn');
    const found = await eventually(async () => {
      const data = await mustQuery(platform.gateway, SEARCH_MY_NOTES, { query: 'foghorn compressor' }, { token: bob.token });
      return data.searchMyNotes.edges.find((e: any) => e.node.id === highlight.id)?.node;
    });
    expect(found).toMatchObject({ kind: 'HIGHLIGHT', paragraph: { id: hit.id } });
  });

  it('answers with citations of real paragraph ids', async () => {
    const data = await mustQuery(platform.gateway, ASK.replace('paragraph { id }', 'paragraph { id text }'), { question: 'How many days could the supply boat not come?' }, { token: alice.token });
    expect(data.ask.citations.length).toBeGreaterThan(0);
    const first = data.ask.citations[0];
    expect(first.paragraph.text).toContain(first.quote.replace(/…$/, ''));
    expect(first.quote).toMatch(/nineteen days/);
  });

  it('answers a Chinese question from Chinese passages and never quotes a chapter heading', async () => {
    const ask = ASK.replace('paragraph { id }', 'paragraph { id text }');
    const zh = await mustQuery(platform.gateway, ask, { question: '陆羽写了什么书？' }, { token: alice.token });
    expect(zh.ask.citations.length).toBeGreaterThan(0);
    for (const citation of zh.ask.citations) expect(citation.book.id).toBe(books.tea);
    const titles = [...lighthouseBook.chapters, ...teaBook.chapters].map((c) => c.title);
    for (const question of ['陆羽写了什么书？', 'What happened on arrival at the lighthouse?']) {
      const data = await mustQuery(platform.gateway, ask, { question }, { token: alice.token });
      for (const citation of data.ask.citations) expect(titles).not.toContain(citation.quote);
    }
  });

  it('refuses bad input with BAD_USER_INPUT, never a crash', async () => {
    for (const variables of [{ query: '' }, { query: 'x'.repeat(10_240) }, { query: 'sea', first: 100_000 }, { query: 'sea', after: '!!' }]) {
      expect(errorCodes(await graphql(platform.gateway, `query($query: String!, $first: Int, $after: String) { search(query: $query, first: $first, after: $after) { paragraphs { totalCount } } }`, variables))).toEqual(['BAD_USER_INPUT']);
    }
    const unknownMode = await graphql(platform.gateway, `{ search(query: "sea", mode: FUZZY) { paragraphs { totalCount } } }`);
    expect(unknownMode.errors?.length).toBeGreaterThan(0);
    expect(['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED']).toContain(errorCodes(unknownMode)[0]);
    const injection = await graphql(platform.gateway, `query($q: String!) { search(query: $q, first: 5) { paragraphs { edges { node { snippet } } } } }`, { q: `"; DROP TABLE books; -- <script>{"$ne":null}` });
    expect(injection.errors).toBeUndefined();
  });

  it('removes an unpublished book from results', async () => {
    await mustQuery(platform.gateway, `mutation($id: ID!) { unpublishBook(id: $id) { id } }`, { id: books.tea }, { token: editor.token });
    await eventually(async () => {
      const hits = await searchHits(platform.gateway, { query: '陆羽 茶经' });
      return !hits.paragraphs.some((p) => p.book.id === books.tea) && !hits.books.some((b) => b.book.id === books.tea);
    });
  });
});
