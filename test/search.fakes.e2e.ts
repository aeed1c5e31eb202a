/**
 * The search service alone against fakes of the catalog and ugc contracts (signed feeds,
 * revisions' chapters, readable books): indexing, the three modes in English and Chinese,
 * readable filtering, re-publishing, unpublishing, private notes, ask, bad input, and the
 * start-up rebuild of a lost index.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig, type FolioConfig } from '../lib/config.js';
import { ANONYMOUS, type Caller } from '../lib/identity.js';
import { signRequest } from '../lib/signing.js';
import { createLogger } from '../lib/logger.js';
import type { RunningService } from '../lib/service.js';
import { openStorage, type Storage } from '../lib/storage/index.js';
import { beekeepingBook, lighthouseBook } from '../subgraphs/catalog/demo/books.en.js';
import { teaBook } from '../subgraphs/catalog/demo/books.zh.js';
import { searchService } from '../subgraphs/search/index.js';
import { rebuildSearchIndex } from '../subgraphs/search/reindex.js';
import { openSearchRuntime } from '../subgraphs/search/runtime.js';
import { ASK, SEARCH, SEARCH_MY_NOTES, fakeRevision, startFakeCatalog, startFakeUgc, type FakeCatalog, type FakeUgc } from './kit/search.js';
import { eventually, tempDataDir, type GraphQLResponse } from './kit/platform.js';

const SECRET = 'search-fakes-secret-search-fakes-secret-0123';
const reader: Caller = { ...ANONYMOUS, userId: 'u-reader', roles: ['READER'] };
const other: Caller = { ...ANONYMOUS, userId: 'u-other', roles: ['READER'] };
const editor: Caller = { ...ANONYMOUS, userId: 'u-editor', roles: ['READER', 'EDITOR'] };

let dataDir: string;
let config: FolioConfig;
let storage: Storage;
let catalog: FakeCatalog;
let ugc: FakeUgc;
let search: RunningService;

async function startSearch(): Promise<RunningService> {
  const serviceUrls = { accounts: 'http://127.0.0.1:9', catalog: catalog.url, ugc: ugc.url, search: '' };
  return searchService.start({ config, storage, logger: createLogger('test', 'silent'), serviceUrls });
}

async function gql<T = any>(query: string, variables: Record<string, unknown>, caller: Caller = reader): Promise<GraphQLResponse<T>> {
  const sent = JSON.stringify({ query, variables });
  const response = await fetch(search.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signRequest(SECRET, { audience: 'search', method: 'POST', pathAndQuery: new URL(search.url).pathname, body: sent }, caller) },
    body: sent,
  });
  const body = (await response.json()) as { data?: T; errors?: GraphQLResponse['errors'] };
  return { status: response.status, data: body.data, errors: body.errors, headers: response.headers };
}

async function must<T = any>(query: string, variables: Record<string, unknown>, caller: Caller = reader): Promise<T> {
  const result = await gql<T>(query, variables, caller);
  if (result.errors?.length) throw new Error(JSON.stringify(result.errors));
  return result.data as T;
}

const paragraphTexts = (data: any): string[] => data.search.paragraphs.edges.map((e: any) => e.node.snippet.replace(/<\/?mark>/g, ''));
const status = async (bookId: string) => (await must(`query($id: ID!) { searchIndexStatus(bookId: $id) { state progress chunksIndexed chunksTotal revisionId } }`, { id: bookId }, editor)).searchIndexStatus;

const lighthouse = fakeRevision(lighthouseBook, 'b-light', 'r-light-1');
const bees = fakeRevision(beekeepingBook, 'b-bees', 'r-bees-1');
const tea = fakeRevision(teaBook, 'b-tea', 'r-tea-1');

beforeAll(async () => {
  dataDir = tempDataDir();
  config = testConfig({ FOLIO_DATA_DIR: dataDir, FOLIO_SUBGRAPH_BASE_PORT: '0', FOLIO_INTERNAL_SECRET: SECRET });
  storage = await openStorage({ dataDir });
  catalog = await startFakeCatalog(SECRET);
  ugc = await startFakeUgc(SECRET);
  search = await startSearch();
  catalog.publish(lighthouse);
  catalog.publish(bees);
  catalog.publish(tea);
  await eventually(async () => (await status('b-tea'))?.state === 'INDEXED');
});

afterAll(async () => {
  await search?.stop();
  await catalog?.close();
  await ugc?.close();
  await storage?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('search service (against contract fakes)', () => {
  it('reports per-book indexing status and progress', async () => {
    expect(await status('b-light')).toMatchObject({ state: 'INDEXED', progress: 1, revisionId: 'r-light-1' });
    expect((await status('b-light')).chunksTotal).toBeGreaterThan(0);
    expect((await gql(`{ searchIndexStatus(bookId: "b-light") { state } }`, {}, reader)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('finds English passages by keyword, semantically and hybrid', async () => {
    for (const mode of ['KEYWORD', 'SEMANTIC', 'HYBRID']) {
      const data = await must(SEARCH, { query: 'foghorn compressor', mode, scope: 'FULL_TEXT', first: 3 });
      expect(paragraphTexts(data)[0], mode).toMatch(/compressor for the foghorn/);
      expect(data.search.paragraphs.edges[0].node.book.id).toBe('b-light');
    }
    const hit = (await must(SEARCH, { query: 'foghorn', mode: 'KEYWORD' })).search.paragraphs.edges[0].node;
    expect(hit.snippet).toContain('<mark>foghorn</mark>');
    expect(lighthouse.chapters.flatMap((c) => c.paragraphs.map((p) => p.id))).toContain(hit.paragraph.id);
  });

  it('finds Chinese passages in every mode', async () => {
    for (const mode of ['KEYWORD', 'SEMANTIC', 'HYBRID']) {
      const data = await must(SEARCH, { query: '陆羽 茶经', mode, scope: 'FULL_TEXT', first: 3 });
      expect(paragraphTexts(data)[0], mode).toContain('陆羽写成《茶经》');
    }
  });

  it('finds books by title prefix, typo and author', async () => {
    const byPrefix = await must(SEARCH, { query: 'kee', scope: 'BOOKS' });
    expect(byPrefix.search.books.edges[0].node).toMatchObject({ book: { id: 'b-light' }, matchedField: 'TITLE' });
    const byTypo = await must(SEARCH, { query: 'Ganet', scope: 'BOOKS' });
    expect(byTypo.search.books.edges[0].node.book.id).toBe('b-light');
    const byAuthor = await must(SEARCH, { query: lighthouseBook.authors[0], scope: 'AUTHORS' });
    expect(byAuthor.search.books.edges[0].node).toMatchObject({ book: { id: 'b-light' }, matchedField: 'AUTHOR' });
    const zh = await must(SEARCH, { query: '茶之旅', scope: 'BOOKS' });
    expect(zh.search.books.edges[0].node.book.id).toBe('b-tea');
    expect(zh.search.books.edges[0].node.highlightedTitle).toContain('<mark>');
  });

  it('filters by book, language and author', async () => {
    const zhOnly = await must(SEARCH, { query: 'water', mode: 'SEMANTIC', filter: { language: 'zh' } });
    expect(zhOnly.search.paragraphs.edges.every((e: any) => e.node.book.id === 'b-tea')).toBe(true);
    const beesOnly = await must(SEARCH, { query: 'light', filter: { bookIds: ['b-bees'] } });
    expect(beesOnly.search.paragraphs.edges.every((e: any) => e.node.book.id === 'b-bees')).toBe(true);
    const byAuthor = await must(SEARCH, { query: 'tea', filter: { authors: [beekeepingBook.authors[0]] } });
    expect(byAuthor.search.paragraphs.edges.every((e: any) => e.node.book.id === 'b-bees')).toBe(true);
  });

  it('pages with first/after and asks catalog once per request', async () => {
    const before = catalog.readableCalls.length;
    const page1 = await must(SEARCH, { query: 'the sea', mode: 'SEMANTIC', scope: 'FULL_TEXT', first: 2 });
    expect(catalog.readableCalls.length).toBe(before + 1);
    expect(page1.search.paragraphs.edges).toHaveLength(2);
    expect(page1.search.paragraphs.pageInfo.hasNextPage).toBe(true);
    const page2 = await must(SEARCH, { query: 'the sea', mode: 'SEMANTIC', scope: 'FULL_TEXT', first: 2, after: page1.search.paragraphs.pageInfo.endCursor });
    const ids = (p: any) => p.search.paragraphs.edges.map((e: any) => e.node.paragraph.id + e.node.startOffset);
    expect(ids(page2)).not.toEqual(ids(page1));
  });

  it('answers with citations of real paragraphs', async () => {
    const data = await must(ASK, { question: 'How long could the supply boat not come during the storm?' });
    expect(data.ask.method).toBe('EXTRACTIVE');
    expect(data.ask.citations.length).toBeGreaterThan(0);
    const allIds = [lighthouse, bees, tea].flatMap((r) => r.chapters.flatMap((c) => c.paragraphs.map((p) => p.id)));
    for (const c of data.ask.citations) expect(allIds).toContain(c.paragraph.id);
    expect(data.ask.citations[0].quote).toMatch(/nineteen days/);
    const selected = lighthouse.chapters[1]!.paragraphs[1]!.id;
    const onPassage = await must(ASK, { question: 'What did Tomas ration?', paragraphId: selected });
    expect(onPassage.ask.citations[0].paragraph.id).toBe(selected);
  });

  it('keeps another user\'s notes out of searchMyNotes', async () => {
    ugc.emit('NoteWritten', { noteId: 'n1', userId: reader.userId, bookId: 'b-bees', chapterId: 'c', paragraphId: null, text: 'remember the waggle dance of the foragers', quote: '', visibility: 'PRIVATE', updatedAt: new Date().toISOString() });
    ugc.emit('HighlightCreated', { highlightId: 'h1', userId: other.userId, bookId: 'b-bees', chapterId: 'c', quote: 'the waggle dance', createdAt: new Date().toISOString() });
    const mine = await eventually(async () => {
      const d = await must(SEARCH_MY_NOTES, { query: 'waggle dance' });
      return d.searchMyNotes.edges.length > 0 && d;
    });
    expect(mine.searchMyNotes.edges.map((e: any) => e.node.id)).toEqual(['n1']);
    const theirs = await eventually(async () => {
      const d = await must(SEARCH_MY_NOTES, { query: 'waggle dance' }, other);
      return d.searchMyNotes.edges.length > 0 && d;
    });
    expect(theirs.searchMyNotes.edges.map((e: any) => e.node)).toEqual([expect.objectContaining({ id: 'h1', kind: 'HIGHLIGHT' })]);
    expect((await gql(SEARCH_MY_NOTES, { query: 'waggle' }, ANONYMOUS)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    ugc.emit('NoteDeleted', { noteId: 'n1', userId: reader.userId });
    await eventually(async () => (await must(SEARCH_MY_NOTES, { query: 'waggle dance' })).searchMyNotes.edges.length === 0);
  });

  it('serves searchMyNotes(first: 100), the documented maximum, and says a 101st hit exists', async () => {
    // `other` (not a new user: the reindex test below counts the users the ugc feed mentions).
    const many = other;
    const at = new Date().toISOString();
    for (let i = 0; i < 101; i++) {
      ugc.emit('NoteWritten', { noteId: `many-${i}`, userId: many.userId, bookId: 'b-bees', chapterId: 'c', paragraphId: null, text: `lantern keeper note ${i}`, quote: '', visibility: 'PRIVATE', updatedAt: at });
    }
    const full = await eventually(async () => {
      const d = await must(SEARCH_MY_NOTES, { query: 'lantern keeper', first: 100 }, many);
      // The feed is applied a batch at a time: wait for all 101, when a full page says a 101st exists
      // (a page of 100 with no next page, seen while the 101st was still on its way, is not the answer).
      return d.searchMyNotes.edges.length === 100 && d.searchMyNotes.pageInfo.hasNextPage && d;
    });
    expect(full.searchMyNotes.pageInfo.hasNextPage).toBe(true);
    expect(new Set(full.searchMyNotes.edges.map((e: any) => e.node.id)).size).toBe(100);
    const refused = await gql(SEARCH_MY_NOTES, { query: 'lantern keeper', first: 101 }, many);
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    // Leave `other`'s index as the later tests expect it.
    for (let i = 0; i < 101; i++) ugc.emit('NoteDeleted', { noteId: `many-${i}`, userId: many.userId });
    await eventually(async () => {
      const d = await must(SEARCH_MY_NOTES, { query: 'lantern keeper', first: 100 }, many);
      return d.searchMyNotes.edges.every((e: any) => !e.node.id.startsWith('many-'));
    });
  });

  it('rejects bad input with BAD_USER_INPUT and bounds the rest', async () => {
    const code = async (variables: Record<string, unknown>) => (await gql(SEARCH, variables)).errors?.[0]?.extensions?.code;
    expect(await code({ query: '' })).toBe('BAD_USER_INPUT');
    expect(await code({ query: '   ' })).toBe('BAD_USER_INPUT');
    expect(await code({ query: 'x'.repeat(10_240) })).toBe('BAD_USER_INPUT');
    expect(await code({ query: 'sea', first: 100_000 })).toBe('BAD_USER_INPUT');
    expect(await code({ query: 'sea', first: 0 })).toBe('BAD_USER_INPUT');
    expect(await code({ query: 'sea', after: 'not-a-cursor' })).toBe('BAD_USER_INPUT');
    expect(await code({ query: 'sea', mode: 'FUZZY' })).toBe('BAD_USER_INPUT');
    expect(await code({ query: 'sea', filter: { language: "en'; DROP TABLE" } })).toBe('BAD_USER_INPUT');
    for (const query of ["'; DROP TABLE books; --", '{"$where": "sleep(1000)"}', '<script>alert(1)</script>', '.*+?^${}()|[]\\', '\u0000\u0001 sea']) {
      const result = await gql(SEARCH, { query, first: 5 });
      expect(result.errors, query).toBeUndefined();
      for (const e of result.data.search.paragraphs.edges) expect(e.node.snippet).not.toContain('<script>');
    }
    expect((await gql(ASK, { question: '' })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('shows only books the caller may read', async () => {
    catalog.readable.delete('b-bees');
    try {
      const data = await must(SEARCH, { query: 'honey bees hive', mode: 'HYBRID' });
      expect(data.search.paragraphs.edges.some((e: any) => e.node.book.id === 'b-bees')).toBe(false);
      expect(data.search.books.edges.some((e: any) => e.node.book.id === 'b-bees')).toBe(false);
    } finally {
      catalog.readable.add('b-bees');
    }
  });

  it('replaces a revision\'s points and removes an unpublished book', async () => {
    const revised = fakeRevision({ ...lighthouseBook, chapters: [{ title: 'Only', paragraphs: ['A completely rewritten chapter about the zeppelin hangar.'] }] }, 'b-light', 'r-light-2');
    catalog.replace(revised);
    await eventually(async () => (await status('b-light'))?.revisionId === 'r-light-2' && (await status('b-light')).state === 'INDEXED');
    const zeppelin = await must(SEARCH, { query: 'zeppelin hangar', mode: 'KEYWORD' });
    expect(zeppelin.search.paragraphs.edges[0].node.paragraph.id).toBe('r-light-2.c0.p0');
    const old = await must(SEARCH, { query: 'foghorn compressor', mode: 'KEYWORD' });
    expect(old.search.paragraphs.edges).toHaveLength(0);

    catalog.unpublish('b-light');
    await eventually(async () => (await status('b-light'))?.state === 'REMOVED');
    // Readable again on catalog's side (a stale grant): the points themselves must be gone.
    catalog.readable.add('b-light');
    const gone = await must(SEARCH, { query: 'zeppelin hangar' });
    expect(gone.search.paragraphs.edges.some((e: any) => e.node.book.id === 'b-light')).toBe(false);
    expect(gone.search.books.edges.some((e: any) => e.node.book.id === 'b-light')).toBe(false);
  });

  it('rebuilds a lost embedded index at start-up', async () => {
    await search.stop();
    rmSync(`${dataDir}/vectors`, { recursive: true, force: true });
    search = await startSearch();
    const data = await eventually(async () => {
      const d = await must(SEARCH, { query: '陆羽 茶经', mode: 'KEYWORD', scope: 'FULL_TEXT' });
      return d.search.paragraphs.edges.length > 0 && d;
    });
    expect(paragraphTexts(data)[0]).toContain('陆羽');
  });

  it('reindex rebuilds books from the catalog feed and notes from the ugc feed', async () => {
    await search.stop();
    const serviceUrls = { accounts: '', catalog: catalog.url, ugc: ugc.url, search: '' };
    const runtime = await openSearchRuntime({ config, storage, logger: createLogger('test', 'silent'), serviceUrls });
    const ticks: string[] = [];
    try {
      const result = await rebuildSearchIndex(runtime, { catalogUrl: catalog.url, ugcUrl: ugc.url, secret: SECRET }, { start: (phase) => ticks.push(`start ${phase}`), tick: () => ticks.push('tick'), stop: () => undefined });
      expect(result).toMatchObject({ books: 2, failedBooks: [], users: 2 });
      expect(ticks.filter((t) => t === 'start books')).toHaveLength(1);
      expect((await runtime.store.books.findOne({ _id: 'b-light' }))?.state).toBe('REMOVED');
      expect((await runtime.store.books.findOne({ _id: 'b-tea' }))?.state).toBe('INDEXED');
      expect(await runtime.vectors.count(runtime.collection, { must: [{ key: 'bookId', match: 'b-light' }] })).toBe(0);
      expect(await runtime.vectors.count(runtime.collection, { must: [{ key: 'bookId', match: 'b-tea' }] })).toBeGreaterThan(0);
      const theirs = await runtime.privateIndexes.search(other.userId!, { text: 'waggle dance', mode: 'hybrid', limit: 5 });
      expect(theirs.map((h) => h.payload.sourceId)).toEqual(['h1']);
      expect(await runtime.privateIndexes.search(reader.userId!, { text: 'waggle dance', mode: 'hybrid', limit: 5 })).toEqual([]);
    } finally {
      await runtime.close();
      search = await startSearch();
    }
  });
});
