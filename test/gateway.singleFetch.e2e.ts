/**
 * The single-fetch fast path (gateway/singleFetch.ts) answers byte-for-byte what @apollo/gateway's
 * executeQueryPlan answers: a corpus of single-subgraph operations (and a few federated controls) on
 * the real platform with the demo library, through one gateway with the fast path and one without,
 * comparing status, cache-control and the exact response body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUBGRAPH_NAMES } from '../lib/config.js';
import { startGateway, type RunningGateway } from '../gateway/server.js';
import { loginAdmin, registerEditor, registerUser } from './kit/accounts.js';
import { mustQuery, startTestPlatform, type TestPlatform } from './kit/platform.js';

type As = 'anonymous' | 'reader' | 'editor' | 'admin';
interface Case {
  readonly name: string;
  readonly query: string;
  readonly variables?: Record<string, unknown>;
  readonly operationName?: string;
  readonly as?: As;
  /** Must take the fast path (false: must not; undefined: either, e.g. errors replay). */
  readonly fast?: boolean;
}

interface Raw {
  readonly status: number;
  readonly cacheControl: string | null;
  readonly body: string;
}

describe('single-fetch fast path equivalence', () => {
  let platform: TestPlatform;
  let normal: RunningGateway;
  let fast: RunningGateway;
  const tokens: Partial<Record<As, string>> = {};
  let ids: { book: string; book2: string; chapter: string; paragraph: string; user: string };

  beforeAll(async () => {
    platform = await startTestPlatform({ env: { FOLIO_DEMO_DATA: 'true' }, parts: ['accounts', 'catalog', 'ugc', 'search'] });
    const subgraphUrls = Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, `${platform.services[n]!.url.replace(/\/graphql$/, '')}/graphql`]));
    // No response cache on either: every request must execute.
    normal = await startGateway(platform.config, { subgraphUrls, singleFetch: false, responseCache: false });
    fast = await startGateway(platform.config, { subgraphUrls, singleFetch: true, responseCache: false });
    const reader = await registerUser(normal.url);
    tokens.reader = reader.token;
    tokens.editor = (await registerEditor(normal.url)).token;
    tokens.admin = await loginAdmin(normal.url);
    const books = await mustQuery(normal.url, '{ books(first: 2) { edges { node { id chapters { id } } } } }');
    const book = books.books.edges[0].node;
    const chapter = book.chapters[0].id as string;
    const paragraphs = await mustQuery(normal.url, 'query($id: ID!) { chapter(id: $id) { paragraphs(first: 1) { edges { node { id } } } } }', { id: chapter });
    const me = await mustQuery(normal.url, '{ me { id } }', {}, { token: reader.token });
    ids = { book: book.id, book2: books.books.edges[1].node.id, chapter, paragraph: paragraphs.chapter.paragraphs.edges[0].node.id, user: me.me.id };
  }, 120_000);
  afterAll(async () => {
    await fast?.stop();
    await normal?.stop();
    await platform?.stop();
  });

  async function send(url: string, c: Case): Promise<Raw> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const token = c.as && c.as !== 'anonymous' ? tokens[c.as] : undefined;
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query: c.query, variables: c.variables, operationName: c.operationName }) });
    return { status: response.status, cacheControl: response.headers.get('cache-control'), body: await response.text() };
  }

  async function fastCount(): Promise<number> {
    const text = await (await fetch(fast.url.replace(/\/graphql$/, '/metrics'))).text();
    const match = /folio_gateway_execution_total\{path="fast"[^}]*\} (\d+)/.exec(text);
    return match ? Number(match[1]) : 0;
  }

  function corpus(): Case[] {
    const { book, book2, chapter, paragraph, user } = ids;
    return [
      { name: 'plain list', query: 'query Books($first: Int) { books(first: $first) { edges { node { id title } } } }', variables: { first: 3 }, fast: true },
      { name: 'aliases', query: '{ a: books(first: 2) { edges { n: node { t: title id } } } b: books(first: 1) { total: totalCount } }', fast: true },
      { name: 'named fragment', query: 'query { books(first: 3) { edges { node { ...B } } } } fragment B on Book { id title authors language }', fast: true },
      { name: 'inline fragments', query: '{ books(first: 2) { edges { node { ... { id } ... on Book { title } } } } }', fast: true },
      { name: 'variable default', query: 'query($n: Int = 4) { books(first: $n) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }', fast: true },
      { name: '@skip true', query: 'query($s: Boolean!) { books(first: 2) { edges { node { id title @skip(if: $s) } } } }', variables: { s: true }, fast: true },
      { name: '@skip false', query: 'query($s: Boolean!) { books(first: 2) { edges { node { id title @skip(if: $s) } } } }', variables: { s: false }, fast: true },
      { name: '@include var + literal', query: 'query($i: Boolean!) { books(first: 2) { totalCount @include(if: $i) edges { node { id @include(if: false) title @include(if: true) } } } }', variables: { i: true }, fast: true },
      { name: '@skip on fragments', query: 'query($s: Boolean = true) { books(first: 2) { edges { node { id ...T @skip(if: $s) ... @include(if: $s) { authors } } } } } fragment T on Book { title }', fast: true },
      { name: 'root field skipped', query: 'query($s: Boolean!) { a: books(first: 1) @skip(if: $s) { totalCount } b: book(id: "x") { id } }', variables: { s: true } },
      { name: 'nested lists', query: 'query($id: ID!) { book(id: $id) { id authors tags chapters { id index title paragraphCount } } }', variables: { id: book }, fast: true },
      { name: 'missing book is null', query: '{ book(id: "no-such-book") { id title } }', fast: true },
      { name: '__typename everywhere', query: 'query($id: ID!) { __typename book(id: $id) { __typename id kind: __typename chapters { __typename id } } }', variables: { id: book }, fast: true },
      { name: 'enum and DateTime', query: 'query($id: ID!) { book(id: $id) { status publishedAt wordCount chapterCount } }', variables: { id: book }, fast: true },
      { name: 'nullable fields', query: 'query($id: ID!) { book(id: $id) { description isbn coverUrl license { startsAt } draftRevision { id } } }', variables: { id: book }, fast: true },
      { name: 'editor sees more', query: 'query($id: ID!) { book(id: $id) { status license { territories partnerIds } revisions(first: 2) { totalCount edges { node { number sizeBytes createdAt } } } } }', variables: { id: book }, as: 'editor', fast: true },
      { name: 'same field twice (merged)', query: '{ books(first: 2) { edges { node { id } } } books(first: 2) { edges { node { title id } } totalCount } }', fast: true },
      { name: 'operationName picks one', query: 'query A { books(first: 1) { totalCount } } query B($id: ID!) { book(id: $id) { title } }', variables: { id: book2 }, operationName: 'B', fast: true },
      { name: 'chapter → book (catalog only)', query: 'query($id: ID!) { chapter(id: $id) { id index title wordCount contentHash book { id title } } }', variables: { id: chapter }, fast: true },
      { name: 'paragraph', query: 'query($id: ID!) { paragraph(id: $id) { id index text startOffset endOffset chapter { index } } }', variables: { id: paragraph }, fast: true },
      { name: 'paragraph connection', query: 'query($id: ID!) { chapter(id: $id) { paragraphs(first: 3) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { index text } } } } }', variables: { id: chapter }, fast: true },
      { name: 'filter input', query: 'query($f: BookFilter) { books(filter: $f, first: 5) { totalCount edges { node { title language } } } }', variables: { f: { language: 'zh' } }, fast: true },
      { name: 'filter literal', query: '{ books(filter: { language: "en" }, first: 2) { edges { node { title } } } }', fast: true },
      { name: 'me anonymous', query: '{ me { id username } }', fast: true },
      { name: 'me reader (enum list)', query: '{ me { id vid username displayName bio avatarUrl roles createdAt } }', as: 'reader', fast: true },
      { name: 'user by id', query: 'query($id: ID!) { user(id: $id) { id username roles } }', variables: { id: user }, as: 'reader', fast: true },
      { name: 'sessions', query: '{ mySessions { id userAgent } }', as: 'reader', fast: true },
      { name: 'admin api keys', query: '{ apiKeys { id } trustedDocuments { id } }', as: 'admin', fast: true },
      { name: 'error: forbidden list', query: '{ apiKeys { id } }', as: 'reader', fast: false },
      { name: 'error: editors only', query: '{ uploadJob(id: "nope") { id status } }', as: 'reader', fast: false },
      { name: 'error: with partial data', query: 'query($id: ID!) { book(id: $id) { id } uploadJob(id: "nope") { id } }', variables: { id: book }, as: 'reader', fast: false },
      { name: 'error: over the cost limit', query: '{ books(first: 100000) { totalCount } }' },
      { name: 'page size over the maximum', query: '{ books(first: 150) { totalCount } }' },
      { name: 'error: bad variable value', query: 'query($n: Int) { books(first: $n) { totalCount } }', variables: { n: 'many' } },
      // The plan for this document is cached by 'plain list': variables are still validated per request.
      { name: 'error: bad variable, plan cached', query: 'query Books($first: Int) { books(first: $first) { edges { node { id title } } } }', variables: { first: 'many' }, fast: false },
      { name: 'error: missing required variable, plan cached', query: 'query($id: ID!) { book(id: $id) { id authors tags chapters { id index title paragraphCount } } }', fast: false },
      { name: 'error: mutation refused (no side effect)', query: 'mutation { createBook(input: { title: "x", authors: ["y"], language: "en" }) { id } }', as: 'reader', fast: false },
      { name: 'error: unknown book update', query: 'mutation($id: ID!) { updateBook(id: $id, input: { title: "x" }) { id } }', variables: { id: 'no-such-book' }, as: 'editor', fast: false },
      { name: 'federated control', query: '{ books(first: 2) { edges { node { id rating { average count } } } } }', fast: false },
      { name: 'federated per-user control', query: '{ me { id shelf(first: 2) { totalCount } } }', as: 'reader', fast: false },
    ];
  }

  it('answers every corpus operation byte-identically, taking the fast path where it applies', async () => {
    const cases = corpus();
    expect(cases.length).toBeGreaterThanOrEqual(30);
    const tookFast: string[] = [];
    for (const c of cases) {
      // First run of a document on each gateway builds its plan (always the normal path).
      const normalFirst = await send(normal.url, c);
      const fastFirst = await send(fast.url, c);
      const before = await fastCount();
      const fastSecond = await send(fast.url, c);
      const wasFast = (await fastCount()) > before;
      const normalSecond = await send(normal.url, c);
      expect({ case: c.name, ...fastFirst }).toEqual({ case: c.name, ...normalFirst });
      expect({ case: c.name, ...fastSecond }).toEqual({ case: c.name, ...normalSecond });
      if (c.fast !== undefined) expect({ case: c.name, wasFast }).toEqual({ case: c.name, wasFast: c.fast });
      if (wasFast) tookFast.push(c.name);
    }
    expect(tookFast.length).toBeGreaterThanOrEqual(25);
  }, 120_000);
});
