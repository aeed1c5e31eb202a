/**
 * Search test kit: fakes of the catalog and ugc contracts (signed feeds, revisions' chapters,
 * readable books) for testing search alone, and helpers for search queries through the gateway.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { notFoundRoute, sendError, sendJson } from '../../lib/http/respond.js';
import { dispatch, type Route } from '../../lib/http/routes.js';
import { RequestVerifier } from '../../lib/signing.js';
import type { FolioEvent } from '../../lib/events.js';
import { eventually, mustQuery, type RequestOptions } from './platform.js';

export interface FakeChapter {
  readonly id: string;
  readonly index: number;
  readonly title: string;
  readonly text: string;
  readonly paragraphs: Array<{ id: string; index: number; startOffset: number; endOffset: number }>;
}

export interface FakeRevision {
  readonly bookId: string;
  readonly revisionId: string;
  readonly language: string;
  readonly title: string;
  readonly authors: string[];
  readonly chapters: FakeChapter[];
}

/** Builds a revision the way the catalog contract describes it: paragraphs are slices of the chapter text. */
export function fakeRevision(book: { title: string; authors: readonly string[]; language: string; chapters: ReadonlyArray<{ title: string; paragraphs: readonly string[] }> }, bookId: string, revisionId: string): FakeRevision {
  return {
    bookId,
    revisionId,
    language: book.language,
    title: book.title,
    authors: [...book.authors],
    chapters: book.chapters.map((chapter, c) => {
      const id = `${revisionId}.c${c}`;
      let text = '';
      const paragraphs = chapter.paragraphs.map((p, index) => {
        if (text) text += '\n\n';
        const startOffset = text.length;
        text += p;
        return { id: `${id}.p${index}`, index, startOffset, endOffset: text.length };
      });
      return { id, index: c, title: chapter.title, text, paragraphs };
    }),
  };
}

class FakeFeed {
  readonly events: FolioEvent[] = [];
  emit(type: string, payload: Record<string, unknown>): void {
    this.events.push({ seq: this.events.length + 1, type, payload, createdAt: new Date().toISOString() });
  }
  route(): Route {
    return {
      method: 'GET',
      path: '/internal/events',
      internal: true,
      handle: async ({ res, url }) => {
        const after = Number(url.searchParams.get('after') ?? 0);
        const limit = Number(url.searchParams.get('limit') ?? 100);
        const wait = Math.min(Number(url.searchParams.get('wait') ?? 0), 200);
        let events = this.events.filter((e) => e.seq > after).slice(0, limit);
        if (events.length === 0 && wait > 0) {
          await new Promise((r) => setTimeout(r, wait));
          events = this.events.filter((e) => e.seq > after).slice(0, limit);
        }
        // The feed contract: the events and the producer's newest seq.
        sendJson(res, 200, { events, head: this.events.length });
      },
    };
  }
}

async function serve(routes: Route[], secret: string, audience: string): Promise<{ server: Server; url: string }> {
  const verifier = new RequestVerifier({ secret, audience });
  const server = createServer((req, res) => {
    dispatch(routes, req, res, verifier)
      .then((handled) => handled || sendError(res, notFoundRoute()))
      .catch((error: unknown) => sendError(res, error));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export interface FakeCatalog {
  readonly url: string;
  /** Books readable by everyone; a test can revoke one without unpublishing it. */
  readonly readable: Set<string>;
  readonly readableCalls: string[][];
  publish(revision: FakeRevision): void;
  replace(revision: FakeRevision): void;
  unpublish(bookId: string): void;
  close(): Promise<void>;
}

export async function startFakeCatalog(secret: string): Promise<FakeCatalog> {
  const feed = new FakeFeed();
  const revisions = new Map<string, FakeRevision>();
  const published = new Map<string, string>();
  const readable = new Set<string>();
  const readableCalls: string[][] = [];
  const routes: Route[] = [
    feed.route(),
    {
      method: 'GET',
      path: '/internal/revisions/*',
      internal: true,
      handle: ({ res, url }) => {
        const id = decodeURIComponent(url.pathname.split('/')[3] ?? '');
        const revision = revisions.get(id);
        if (!revision) return sendError(res, notFoundRoute());
        sendJson(res, 200, revision);
      },
    },
    {
      method: 'POST',
      path: '/internal/books/readable',
      internal: true,
      handle: async ({ res, body }) => {
        const { bookIds } = JSON.parse((await body()).toString('utf8')) as { bookIds: string[] };
        readableCalls.push(bookIds);
        sendJson(res, 200, { readable: bookIds.filter((id) => readable.has(id)) });
      },
    },
    {
      // Catalog's one access check; search asks it with book ids only.
      method: 'POST',
      path: '/internal/access',
      internal: true,
      handle: async ({ res, body }) => {
        const { bookIds = [] } = JSON.parse((await body()).toString('utf8')) as { bookIds?: string[] };
        readableCalls.push(bookIds);
        sendJson(res, 200, { books: bookIds.filter((id) => readable.has(id)), chapters: [], paragraphs: [] });
      },
    },
  ];
  const { server, url } = await serve(routes, secret, 'catalog');
  return {
    url,
    readable,
    readableCalls,
    publish(revision) {
      revisions.set(revision.revisionId, revision);
      published.set(revision.bookId, revision.revisionId);
      readable.add(revision.bookId);
      feed.emit('BookPublished', { bookId: revision.bookId, revisionId: revision.revisionId });
    },
    replace(revision) {
      revisions.set(revision.revisionId, revision);
      const previousRevisionId = published.get(revision.bookId);
      published.set(revision.bookId, revision.revisionId);
      feed.emit('BookContentReplaced', { bookId: revision.bookId, previousRevisionId, revisionId: revision.revisionId });
    },
    unpublish(bookId) {
      published.delete(bookId);
      readable.delete(bookId);
      feed.emit('BookUnpublished', { bookId });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface FakeUgc {
  readonly url: string;
  emit(type: string, payload: Record<string, unknown>): void;
  close(): Promise<void>;
}

export async function startFakeUgc(secret: string): Promise<FakeUgc> {
  const feed = new FakeFeed();
  const { server, url } = await serve([feed.route()], secret, 'ugc');
  return { url, emit: (type, payload) => feed.emit(type, payload), close: () => new Promise((resolve) => server.close(() => resolve())) };
}

// --- queries ------------------------------------------------------------------------------------

export const SEARCH = /* GraphQL */ `
  query Search($query: String!, $mode: SearchMode, $scope: SearchScope, $filter: SearchFilter, $first: Int, $after: String) {
    search(query: $query, mode: $mode, scope: $scope, filter: $filter, first: $first, after: $after) {
      books { totalCount edges { cursor node { book { id } score matchedField title authors highlightedTitle } } pageInfo { hasNextPage endCursor } }
      paragraphs { totalCount edges { cursor node { paragraph { id } paragraphs { id } book { id } chapterId score language snippet startOffset endOffset } } pageInfo { hasNextPage endCursor } }
    }
  }
`;

export const SEARCH_MY_NOTES = /* GraphQL */ `
  query MyNotes($query: String!, $first: Int) {
    searchMyNotes(query: $query, first: $first) { edges { node { kind id book { id } chapterId paragraph { id } score snippet text quote } } pageInfo { hasNextPage } }
  }
`;

export const ASK = /* GraphQL */ `
  query Ask($question: String!, $bookId: ID, $paragraphId: ID) {
    ask(question: $question, bookId: $bookId, paragraphId: $paragraphId) { text method citations { paragraph { id } book { id } chapterId quote score } }
  }
`;

export interface SearchHits {
  books: Array<{ book: { id: string }; title: string; matchedField: string; highlightedTitle: string }>;
  paragraphs: Array<{ paragraph: { id: string }; book: { id: string }; snippet: string; score: number }>;
}

/** Runs `search` and returns the nodes of both lists. */
export async function searchHits(url: string, variables: Record<string, unknown>, options: RequestOptions = {}): Promise<SearchHits> {
  const data = await mustQuery<{ search: { books: { edges: Array<{ node: SearchHits['books'][number] }> }; paragraphs: { edges: Array<{ node: SearchHits['paragraphs'][number] }> } } }>(url, SEARCH, variables, options);
  return { books: data.search.books.edges.map((e) => e.node), paragraphs: data.search.paragraphs.edges.map((e) => e.node) };
}



/** Waits until search reports the book INDEXED (needs an EDITOR/ADMIN token). */
export async function waitForIndexed(gateway: string, staffToken: string, bookId: string): Promise<void> {
  await eventually(async () => {
    const data = await mustQuery<{ searchIndexStatus: { state: string } | null }>(gateway, `query($id: ID!) { searchIndexStatus(bookId: $id) { state } }`, { id: bookId }, { token: staffToken });
    return data.searchIndexStatus?.state === 'INDEXED';
  }, { timeoutMs: 60_000 });
}
