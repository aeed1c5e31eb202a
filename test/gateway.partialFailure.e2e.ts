/**
 * One dead subgraph nulls only what it serves (issue 17 §1). Each subgraph in turn is stopped under
 * a running platform; one operation touching all four must still bring everything the other three
 * serve, with an error per failed field that names its path, the code SERVICE_UNAVAILABLE and the
 * subgraph. The subgraph is then started again on its port and the full answer returns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUBGRAPH_NAMES, type SubgraphName } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import type { RunningService } from '../lib/service.js';
import { SERVICE_MODULES } from '../scripts/platform.js';
import { registerEditor, registerUser, type TestUser } from './kit/accounts.js';
import { createPublishedBook } from './kit/catalog.js';
import { eventually, graphql, mustQuery, startTestPlatform, type GraphQLResponse, type TestPlatform } from './kit/platform.js';
import { waitForIndexed } from './kit/search.js';
import { ADD_TO_SHELF, chaptersOf, highlightWords } from './kit/ugc.js';

// Each line names the subgraph that serves it (ownership as the SDLs declare it).
const EVERYTHING = /* GraphQL */ `
  query Everything($book: ID!) {
    me {                                                    # accounts
      id username                                           # accounts
      shelf(first: 5) {                                     # ugc
        totalCount edges { node { finished book { id title } } }   # ugc, title: catalog
      }
    }
    book(id: $book) {                                       # catalog
      id title authors                                      # catalog
      rating { average count }                              # ugc
      reviews(first: 5) { edges { node { rating text author { username } } } }   # ugc, username: accounts
      chapters { index title myHighlights { quote } }       # catalog, myHighlights: ugc
    }
    search(query: "gulls", scope: FULL_TEXT, first: 3) {     # search
      paragraphs { edges { node { snippet book { title } } } }   # search, title: catalog
    }
  }
`;

type Data = Record<string, any>;

describe('one dead subgraph nulls only the fields it serves', () => {
  let platform: TestPlatform;
  let reader: TestUser;
  let bookId: string;
  let full: Data;
  // The running instance of each service: the platform's, until this test restarts one.
  const current: Partial<Record<SubgraphName, RunningService>> = {};
  const restarted: RunningService[] = [];
  const logger = createLogger('test', 'silent');

  beforeAll(async () => {
    // Tokens stay resolved for a minute: accounts being down must not hide what this test looks at.
    platform = await startTestPlatform({ env: { FOLIO_GATEWAY_AUTH_CACHE_SECONDS: '60', FOLIO_GATEWAY_SUBGRAPH_TIMEOUT_MS: '3000' } });
    Object.assign(current, platform.services);
    const editor = await registerEditor(platform.gateway);
    ({ bookId } = await createPublishedBook(platform.gateway, editor.token));
    reader = await registerUser(platform.gateway);
    await mustQuery(platform.gateway, ADD_TO_SHELF, { bookId }, { token: reader.token });
    await mustQuery(platform.gateway, `mutation($id: ID!) { writeReview(bookId: $id, input: { rating: 4, text: "Calm." }) { id } }`, { id: bookId }, { token: reader.token });
    const [chapter] = await chaptersOf(platform.gateway, reader.token, bookId);
    await highlightWords(platform.gateway, reader.token, chapter!, 'gulls woke');
    await waitForIndexed(platform.gateway, editor.token, bookId);
    full = await eventually(async () => {
      const data = await mustQuery(platform.gateway, EVERYTHING, { book: bookId }, { token: reader.token });
      return data.search?.paragraphs.edges.length > 0 ? data : null;
    });
  }, 60_000);

  afterAll(async () => {
    for (const service of restarted) await service.stop().catch(() => undefined);
    await platform?.stop();
  });

  it('answers in full while every subgraph is up', () => {
    expect(full.me.username).toBe(reader.username);
    expect(full.me.shelf.edges[0].node.book.title).toBe('Test Book');
    expect(full.book.rating).toEqual({ average: 4, count: 1 });
    expect(full.book.reviews.edges[0].node.author.username).toBe(reader.username);
    expect(full.book.chapters[0].myHighlights).toEqual([{ quote: 'gulls woke' }]);
    expect(full.search.paragraphs.edges[0].node.book.title).toBe('Test Book');
  });

  /**
   * What the client must get with `name` down: the full answer with that subgraph's fields null,
   * and each error's path and the subgraph it names (by default the one that is down).
   */
  const expectations: Record<SubgraphName, (data: Data) => Array<{ path: ReadonlyArray<string | number>; serviceName?: SubgraphName }>> = {
    accounts: (data) => {
      data.me = null;
      data.book.reviews.edges[0].node.author = null;
      return [{ path: ['me'] }, { path: ['book', 'reviews', 'edges', 0, 'node', 'author', 'username'] }];
    },
    catalog: (data) => {
      data.book = null;
      data.me.shelf.edges[0].node.book = null;
      // Search cannot tell which books the caller may read without catalog: it fails closed, and says so.
      data.search = null;
      return [{ path: ['book'] }, { path: ['me', 'shelf', 'edges', 0, 'node', 'book', 'title'] }, { path: ['search'], serviceName: 'search' }];
    },
    ugc: (data) => {
      data.me.shelf = null;
      data.book.rating = null;
      data.book.reviews = null;
      for (const chapter of data.book.chapters) chapter.myHighlights = null;
      return [{ path: ['me', 'shelf'] }, { path: ['book', 'rating'] }, { path: ['book', 'reviews'] }, ...data.book.chapters.map((_: unknown, i: number) => ({ path: ['book', 'chapters', i, 'myHighlights'] }))];
    },
    search: (data) => {
      data.search = null;
      return [{ path: ['search'] }];
    },
  };

  async function stop(name: SubgraphName): Promise<number> {
    const service = current[name]!;
    await service.stop();
    return service.port;
  }

  async function start(name: SubgraphName, port: number): Promise<void> {
    const config = { ...platform.config, subgraphPorts: { ...platform.config.subgraphPorts, [name]: port } };
    const serviceUrls = Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, current[n]!.url.replace(/\/graphql$/, '')])) as Record<SubgraphName, string>;
    const service = await SERVICE_MODULES[name].start({ config, storage: platform.storage, logger, serviceUrls });
    current[name] = service;
    restarted.push(service);
  }

  const query = (): Promise<GraphQLResponse> => graphql(platform.gateway, EVERYTHING, { book: bookId }, { token: reader.token });

  it.each(SUBGRAPH_NAMES)('with %s down, everything the other subgraphs serve still arrives', async (name) => {
    const port = await stop(name);
    try {
      const result = await query();
      const expected = structuredClone(full);
      const nulledAt = expectations[name](expected);
      expect(result.status).toBe(200);
      expect(result.data).toEqual(expected);
      // One error per field left null: its path, a stable code, the subgraph's name, no internals.
      const seen = (result.errors ?? []).map((e) => ({ path: e.path, code: e.extensions?.code, serviceName: e.extensions?.serviceName }));
      const wanted = nulledAt.map((e) => ({ path: e.path, code: 'SERVICE_UNAVAILABLE', serviceName: e.serviceName ?? name }));
      expect(seen).toEqual(expect.arrayContaining(wanted));
      expect(seen).toHaveLength(wanted.length);
      expect(JSON.stringify(result.errors)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|stack/);
    } finally {
      await start(name, port);
    }
    // Back on its port: the full answer again.
    const recovered = await eventually(async () => {
      const result = await query();
      return result.errors ? null : result;
    });
    expect(recovered.data).toEqual(full);
  }, 30_000);

  it('refuses a credential it cannot check while accounts is down with SERVICE_UNAVAILABLE (503), and still serves anonymous callers', async () => {
    const port = await stop('accounts');
    try {
      const unknown = await graphql(platform.gateway, '{ me { id } }', {}, { token: 'a'.repeat(43) });
      expect(unknown.status).toBe(503);
      expect(unknown.errors?.map((e) => e.extensions?.code)).toEqual(['SERVICE_UNAVAILABLE']);
      const anonymous = await graphql(platform.gateway, 'query($id: ID!) { book(id: $id) { title rating { count } } }', { id: bookId });
      expect(anonymous.errors).toBeUndefined();
      expect(anonymous.data).toEqual({ book: { title: 'Test Book', rating: { count: 1 } } });
    } finally {
      await start('accounts', port);
    }
  }, 30_000);
});
